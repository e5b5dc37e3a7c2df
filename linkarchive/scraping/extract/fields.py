"""One rule per metadata field: where to look, in which order.

The order follows what real pages reward: publishers fill Open Graph and JSON-LD for sharing and
search, and keep them cleaner than ``<title>`` (which carries the site name) or the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from linkarchive.scraping.extract.dates import date_from_url, find_date, parse_date
from linkarchive.scraping.extract.document import Document
from linkarchive.scraping.extract.jsonld import names, texts, types_of, urls
from linkarchive.scraping.extract.lang import (
    language_from_script,
    language_from_words,
    normalize_lang,
)
from linkarchive.scraping.extract.text import absolute_url, clean

__all__ = ["canonical_url", "date", "description", "image", "keywords", "kind", "lang",
           "logo", "publisher"]

_MAX_KEYWORDS = 30
_MAX_KEYWORD_LENGTH = 60
_BODY_PICTURES = 'article img[src], main img[src], [itemprop~="articleBody" i] img[src]'
_MIN_PICTURE = 200
_NOT_PICTURES = ("logo", "icon", "avatar", "sprite", "pixel", "spacer", "badge", "emoji")
_DATE_META = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "uploaddate", "article.published", "article_date_original", "publish-date",
    "publishdate", "publish_date", "pubdate", "publication_date", "published_time",
    "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dc.date.created",
    "dcterms.created", "citation_publication_date", "citation_date", "sailthru.date",
    "parsely-pub-date", "cxenseparse:recs:publishtime", "rnews:datepublished", "date",
)
_DATELINE = ", ".join(f"[{attribute}*={word} i]" for attribute in ("class", "id") for word in (
    "date", "time", "publish", "posted", "byline", "datum", "fecha", "meta", "article-info"))
_NOT_DATELINE = ("comment", "update", "modif", "widget", "sidebar", "calendar", "archive")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "last-modified",
                  "dcterms.modified")
_OG_KINDS = {"article": "article", "blog": "article", "video": "video", "music": "audio",
             "book": "book", "profile": "profile", "product": "product", "website": "website",
             "image": "image", "photo": "image"}
_JSONLD_KINDS = (
    ({"videoobject", "movie", "tvepisode", "episode"}, "video"),
    ({"audioobject", "podcastepisode", "musicrecording", "musicalbum"}, "audio"),
    ({"product"}, "product"), ({"book"}, "book"), ({"event"}, "event"),
)


def _first(values: Iterable[str]) -> str | None:
    return next((v for v in map(clean, values) if v), None)


def description(doc: Document) -> str | None:
    """Declared descriptions, whole rather than cut short; else the first real paragraph."""
    jl = doc.jsonld
    candidates = [c for c in map(clean, [
        *doc.meta_values("og:description", "description", "twitter:description"),
        *texts(jl.get("description")),
        *doc.meta_values("dc.description", "dcterms.description"),
        *doc.microdata.get("description", ()),
    ]) if c]
    if not candidates:
        return doc.first_paragraph() or None
    chosen = candidates[0]
    stem = chosen.rstrip(".…").rstrip()
    if stem != chosen:  # cut short for a card: another source may have it whole
        chosen = next((c for c in candidates if len(c) > len(chosen) and c.startswith(stem)),
                      chosen)
    return chosen


def _content_image(doc: Document) -> str | None:
    """The first sizeable picture in the article body, for pages without a declared image."""
    for node in doc.tree.css(_BODY_PICTURES):
        attributes = node.attributes
        src = attributes.get("src") or ""
        marks = f"{src} {attributes.get('class') or ''} {attributes.get('alt') or ''}".lower()
        if any(word in marks for word in _NOT_PICTURES) or src.lower().endswith((".svg", ".gif")):
            continue
        sizes = [attributes.get(name) or "" for name in ("width", "height")]
        if any(size.isdigit() and int(size) < _MIN_PICTURE for size in sizes):
            continue
        if found := absolute_url(src, doc.base):
            return found
    return None


def image(doc: Document) -> str | None:
    """The card image: Open Graph, Twitter, JSON-LD, microdata, then a picture in the article."""
    jl = doc.jsonld
    candidates = [
        *doc.meta_values("og:image:secure_url", "og:image:url", "og:image", "twitter:image",
                         "twitter:image:src"),
        *urls(jl.get("image")), *urls(jl.get("thumbnailUrl")),
        *doc.microdata.get("image", ()), *doc.meta_values("thumbnail", "image"),
        *doc.link_hrefs("image_src"),
    ]
    declared = next((u for u in (absolute_url(c, doc.base) for c in candidates) if u), None)
    return declared or _content_image(doc)


def publisher(doc: Document) -> str | None:
    """The site's name as it gives it."""
    jl = doc.jsonld
    website = jl.first("website")
    return _first([
        *doc.meta_values("og:site_name"),
        *names(jl.get("publisher")),
        *(names(website) if website else ()),
        *doc.meta_values("application-name", "apple-mobile-web-app-title", "dc.publisher",
                         "dcterms.publisher"),
        *doc.microdata.get("publisher", ()),
    ])


def lang(doc: Document) -> str | None:
    """ISO 639-1: declared, unless the script plainly says otherwise; else guessed from text."""
    jl = doc.jsonld
    declared = next(filter(None, map(normalize_lang, [
        doc.lang, *doc.meta_values("content-language", "language", "dc.language", "og:locale"),
        *texts(jl.get("inLanguage")),
    ])), None)
    sample = " ".join(filter(None, [doc.title, doc.text_sample()]))
    seen = language_from_script(sample)
    cjk = ("ko", "ja", "zh")
    # A template's lang="en" on a page written in Hangul or kanji is a leftover, not a claim.
    if seen and (declared is None or (seen in cjk and declared not in cjk)):
        return seen
    return declared or language_from_words(sample)


def date(doc: Document) -> str | None:
    """The published date: declared, then ``<time>``, the URL, the dateline, else modified."""
    jl = doc.jsonld
    published = [*texts(jl.get("datePublished")), *texts(jl.get("uploadDate")),
                 *(v for e in jl.entities for v in texts(e.get("datePublished")))]
    for value in [*published, *doc.meta_values(*_DATE_META),
                  *doc.microdata.get("datepublished", ())]:
        if found := parse_date(value):
            return found
    for node in doc.tree.css("time[pubdate], article time[datetime], time[datetime]")[:3]:
        if found := parse_date(node.attributes.get("datetime") or node.text()):
            return found
    if found := date_from_url(doc.url) or _visible_date(doc) or find_date(doc.around_headline()):
        return found
    for value in [*texts(jl.get("dateCreated")), *texts(jl.get("dateModified")),
                  *doc.meta_values(*_MODIFIED_META)]:
        if found := parse_date(value):
            return found
    return None


def _visible_date(doc: Document) -> str | None:
    """A date written in a dateline or byline element, as readers see it."""
    for node in doc.tree.css(_DATELINE)[:40]:
        marks = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}".lower()
        if any(word in marks for word in _NOT_DATELINE):
            continue
        text = clean(node.text(deep=True, separator=" "))
        if len(text) < 200 and (found := parse_date(text)):
            return found[:10]
    return None


def _split_keywords(value: str) -> list[str]:
    separator = next((s for s in (",", "、", ";", "|") if s in value), None)
    return value.split(separator) if separator else [value]


def keywords(doc: Document) -> tuple[str, ...]:
    """Keywords and tags from meta tags and JSON-LD, deduplicated without regard to case."""
    jl = doc.jsonld
    raw = [*doc.meta_values("keywords", "news_keywords", "article:tag", "parsely-tags"),
           *texts(jl.get("keywords"))]
    found: dict[str, str] = {}
    for value in raw:
        for word in _split_keywords(value):
            word = clean(word).strip("#\"'")
            if word and len(word) <= _MAX_KEYWORD_LENGTH:
                found.setdefault(word.casefold(), word)
    return tuple(found.values())[:_MAX_KEYWORDS]


def kind(doc: Document) -> str:
    """What the page is: article, video, audio, image, product, book, event, profile, website."""
    main = doc.jsonld.main
    main_types = types_of(main) if main else set()
    for types, name in _JSONLD_KINDS:
        if main_types & types:
            return name
    og_type = (_first(doc.meta_values("og:type")) or "").lower()
    mapped = _OG_KINDS.get(og_type.split(".", 1)[0].split(":", 1)[-1])
    if mapped and mapped != "website":
        return mapped
    player = _first(doc.meta_values("twitter:card")) == "player"
    if player or doc.meta_values("og:video", "og:video:url"):
        return "video"
    if "profilepage" in main_types:
        return "profile"
    if main is not None and main_types.isdisjoint({"webpage", "website"}) and "headline" in main:
        return "article"
    if doc.meta_values("article:published_time", "article:author"):
        return "article"
    return "website"


def _icon_size(rels: frozenset[str], attributes: dict[str, str]) -> int:
    declared = attributes.get("sizes", "").lower()
    if "any" in declared:  # a scalable icon
        return 512
    widths = [int(w) for w, _, _ in (size.partition("x") for size in declared.split())
              if w.isdigit()]
    if widths:
        return max(widths)
    return 180 if any(r.startswith("apple-touch-icon") for r in rels) else 32


def logo(doc: Document) -> str | None:
    """The largest declared icon, else the JSON-LD publisher's logo."""
    icons = [(rels, href, attrs) for rels, href, attrs in doc.links
             if rels & {"icon", "apple-touch-icon", "apple-touch-icon-precomposed"}]
    if icons:
        best = max(icons, key=lambda item: _icon_size(item[0], item[2]))
        return best[1]
    publisher_entity = doc.jsonld.get("publisher")
    if isinstance(publisher_entity, list):
        publisher_entity = publisher_entity[0] if publisher_entity else None
    if isinstance(publisher_entity, dict):
        for candidate in urls(doc.jsonld.resolve(publisher_entity.get("logo"))):
            if found := absolute_url(candidate, doc.base):
                return found
    return None


def canonical_url(doc: Document) -> str:
    """The page's own address for itself (``rel=canonical``, og:url), else where it was fetched."""
    page = urlsplit(doc.url)
    for candidate in [*doc.link_hrefs("canonical"), *doc.meta_values("og:url"),
                      *texts(doc.jsonld.get("url"))]:
        found = absolute_url(candidate, doc.base)
        if not found:
            continue
        # A canonical pointing at the home page from an inner page is a template mistake.
        if urlsplit(found).path in ("", "/") and page.path not in ("", "/"):
            continue
        return found
    return doc.url
