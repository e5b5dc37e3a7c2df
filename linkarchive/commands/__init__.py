"""The command groups of the ``linkarchive`` CLI, one module each, registered in ``cli.py``."""
