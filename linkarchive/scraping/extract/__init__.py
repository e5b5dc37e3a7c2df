"""Link metadata from a page: ``extract_metadata(html, url)`` → ``Metadata``.

Sources, roughly in order of trust: Open Graph and Twitter cards, JSON-LD, microdata, other
``<meta>`` and ``<link>`` elements, then the document itself. ``fields`` holds one rule per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from posixpath import basename
from typing import Any
from urllib.parse import unquote, urlsplit

from linkarchive.scraping.extract import fields
from linkarchive.scraping.extract.author import author
from linkarchive.scraping.extract.document import Document
from linkarchive.scraping.extract.title import site_names, title

__all__ = ["FIELDS", "Metadata", "extract_metadata", "media_metadata"]

FIELDS = ("url", "title", "description", "image", "author", "publisher", "lang", "date", "logo",
          "kind", "keywords")


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What a link shows: None where the page does not say."""

    url: str | None
    title: str | None = None
    description: str | None = None
    image: str | None = None
    author: str | None = None
    publisher: str | None = None
    lang: str | None = None
    date: str | None = None
    logo: str | None = None
    kind: str | None = None
    keywords: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with exactly the keys in ``FIELDS``; ``keywords`` is a list."""
        values = {name: getattr(self, name) for name in FIELDS}
        values["keywords"] = list(self.keywords)
        return values


def extract_metadata(html: str, url: str) -> Metadata:
    """Read a page's metadata; ``url`` is where it was fetched from (relative links resolve on it)."""
    doc = Document(html, url)
    publisher = fields.publisher(doc)
    sites = site_names(doc, publisher)
    return Metadata(
        url=fields.canonical_url(doc) or None,
        title=title(doc, sites),
        description=fields.description(doc),
        image=fields.image(doc),
        author=author(doc, sites),
        publisher=publisher,
        lang=fields.lang(doc),
        date=fields.date(doc),
        logo=fields.logo(doc),
        kind=fields.kind(doc),
        keywords=fields.keywords(doc),
    )


def media_metadata(url: str, content_type: str) -> Metadata:
    """Metadata for a URL that is a file rather than a page: an image is its own thumbnail."""
    major = content_type.split("/", 1)[0]
    kind = major if major in ("image", "video", "audio") else "file"
    name = unquote(basename(urlsplit(url).path)) or None
    return Metadata(url=url, title=name, image=url if kind == "image" else None, kind=kind)
