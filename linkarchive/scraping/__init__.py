"""Scraping: everything between a shared URL and its metadata.

``urls`` normalises and hashes; ``guard`` keeps fetches off internal addresses; ``fetch`` gets pages
and images within time and size bounds (``body``, ``decode``, ``politeness``, ``challenge`` help);
``extract`` reads the metadata; ``inspect`` serves the ``linkarchive inspect`` command.
"""
