"""linkarchive: a self-hosted link archive."""

__version__ = "0.1.0"
