"""The author rule: structured data first, then author meta tags, then the visible byline.

Names that are the site itself, URLs, e-mail addresses and link labels are not authors.
"""

from __future__ import annotations

import re

from linkarchive.scraping.extract.document import Document
from linkarchive.scraping.extract.jsonld import names
from linkarchive.scraping.extract.text import clean, same_name

__all__ = ["author"]

_PREFIX = re.compile(
    r"^(?:(?:written|posted|published|veröffentlicht|geschrieben|erstellt|eingestellt|publiziert|"
    r"beitrag|artikel|publié|publicado)\s+)?(?:by|von|vom|par|por|di|door|av|af|от)\b[:\s]*"
    r"|^(?:autor(?:in)?|author|text|interview|redaktion|fotos?|投稿者|著者|作者|執筆者|글)\s*[:：]?\s*",
    re.I)
# A byline runs until its date, a separator, a handle, a job title or a line of link labels.
_END = re.compile(
    r"\s*(?:[|•·,/—–@(（\[]|\d|기자|특파원|記者|\b(?:on|at|am|um|le|el|il|view|follow|updated|aktualisiert|stand|"
    r"veröffentlicht|publiziert|twitter|facebook|e-?mail|staff|senior|editor|reporter|"
    r"correspondent|contributor|columnist|redakteur(?:in)?|korrespondent(?:in)?|"
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b)", re.I)
_TITLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|特派員)$")
# Words a byline element may hold instead of a name.
_LABELS = frozenset({
    "posted", "published", "publiziert", "veröffentlicht", "auteur", "auteurs", "author",
    "authors", "autor", "autorin", "autoren", "redaktion", "editor", "admin", "staff", "by", "von",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "montag",
    "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
})
_BYLINE = ('[rel~="author" i], [class*="byline" i], [class*="author" i], [class*="autor" i], '
           '[itemprop~="author" i]')
_NOT_BYLINE = ("comment", "flyout", "bio", "avatar", "description", "box", "widget")
_MAX_WORDS = 6


def _person(value: str) -> str:
    value = _TITLE_SUFFIX.sub("", _PREFIX.sub("", clean(value)).strip())
    if value.startswith(("http://", "https://", "www.")) or "@" in value[1:]:
        return ""
    return value


def _from_byline(text: str) -> str:
    name = _PREFIX.sub("", clean(text))
    name = _TITLE_SUFFIX.sub("", _END.split(name, maxsplit=1)[0].strip(" -–:"))
    words = name.split()
    if not 1 <= len(words) <= _MAX_WORDS or len(name) < 3 or ":" in name:
        return ""
    return "" if name.casefold() in _LABELS else name


def _bylines(doc: Document) -> list[str]:
    found = []
    for node in doc.tree.css(_BYLINE)[:20]:
        marks = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}".lower()
        if node.tag in ("input", "img", "meta", "link") or any(w in marks for w in _NOT_BYLINE):
            continue
        name = _from_byline(node.text(deep=True, separator=" "))
        if name:
            found.append(name)
    return found


def author(doc: Document, sites: list[str]) -> str | None:
    """Authors joined with ", ", or None; ``sites`` are the site's own names, never an author."""
    jl = doc.jsonld

    def usable(name: str) -> bool:
        return bool(name) and not same_name(name, sites, doc.url)

    structured = [_person(n) for n in names(jl.get("author")) + names(jl.get("creator"))]
    structured = [n for n in dict.fromkeys(structured) if usable(n)]
    if structured:
        return ", ".join(structured)
    candidates = [
        *doc.meta_values("author", "article:author", "dc.creator", "dcterms.creator", "byl",
                         "parsely-author", "sailthru.author", "citation_author"),
        *doc.microdata.get("author", ()), *doc.microdata.get("creator", ()),
    ]
    named = next((n for n in map(_person, candidates) if usable(n)), None)
    return named or next((n for n in _bylines(doc) if usable(n)), None)
