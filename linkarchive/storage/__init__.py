"""Persistence: databases and migrations, blob stores, caches."""
