"""The title rule, the one field with many competing sources.

Sources are tried in order of trust (JSON-LD headline, Open Graph, Twitter, …), but a source that the page confirms (it is most of the
``<title>``, or it is one of the headings) beats an earlier one the page does not confirm: that
skips kickers, site names and stray ``headline`` markup. A ``<title>`` loses its site name.
"""

from __future__ import annotations

from linkarchive.scraping.extract.document import Document
from linkarchive.scraping.extract.jsonld import texts
from linkarchive.scraping.extract.text import (
    GENERIC_SEGMENTS,
    SEPARATORS,
    clean,
    key,
    same_name,
    trim_site_name,
)

__all__ = ["title", "site_names"]


def site_names(doc: Document, publisher: str | None) -> list[str]:
    """Names the site calls itself: publisher, og:site_name, the text of links home."""
    return [n for n in (publisher, *doc.meta_values("og:site_name"), *doc.home_names) if n]


def _confirmed(candidate: str, anchors: list[str]) -> bool:
    """True when ``candidate`` is most of an anchor (the ``<title>`` or a heading) or vice versa."""
    k = key(candidate)
    return bool(k) and any(
        (k in anchor and len(k) * 2 >= len(anchor)) or (anchor in k and len(anchor) * 2 >= len(k))
        for anchor in anchors if anchor)


def _heading_part(text: str, headings: set[str]) -> str | None:
    """The part of a title split at a separator that is also a heading: the longer part, or a
    part of a few words at least. Unspaced separators count here ("記事タイトル｜サイト",
    "标题-网站"): the heading vouches for the split."""
    for separator in (*SEPARATORS, ": ", "：", "｜", "|", "-", "_", ":"):
        parts = text.split(separator)
        for index in range(1, len(parts)):
            head, tail = separator.join(parts[:index]), separator.join(parts[index:])
            for part, other in ((head, tail), (tail, head)):
                words = sum(1 for word in part.split() if key(word))
                if key(part) in headings and (len(part) >= len(other) or words >= 3):
                    return part.strip()
    return None


def title(doc: Document, sites: list[str]) -> str | None:
    """The page's headline; ``sites`` are the site's own names (see ``site_names``)."""
    jl = doc.jsonld
    candidates = [c for c in map(clean, [
        # The structured headline is the one on the page; og:title is often reworded for sharing.
        *texts(jl.get("headline")),
        *doc.meta_values("og:title", "twitter:title"),
        *texts(jl.get("name")),
        *doc.microdata.get("headline", ()),
        *doc.meta_values("dc.title", "dcterms.title", "title"),
    ]) if c and not c.startswith(("http://", "https://"))]
    named = [c for c in candidates if not same_name(c, sites, doc.url)]
    document_title = trim_site_name(doc.title, sites, doc.url)
    headings = {key(h) for h in doc.headings if not same_name(h, sites, doc.url)}
    anchors = [key(document_title), key(doc.title), *headings]
    chosen = next((c for c in named if _confirmed(c, anchors)), None)
    chosen = chosen or next(iter(named), None) or document_title
    if not chosen or key(chosen) in GENERIC_SEGMENTS:
        chosen = doc.h1 or chosen or next(iter(candidates), None)
    if not chosen:
        return None
    return trim_site_name(_heading_part(chosen, headings) or chosen, sites, doc.url)
