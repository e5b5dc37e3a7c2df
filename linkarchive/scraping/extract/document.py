"""One parse of a page, indexed the way the field rules read it: ``<meta>``, ``<link>``, JSON-LD,
microdata and the document's own title, headings and paragraphs."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from linkarchive.scraping.extract.jsonld import JsonLd
from linkarchive.scraping.extract.text import absolute_url, clean

__all__ = ["Document"]

_META_KEYS = ("property", "name", "itemprop", "http-equiv")
_URL_ATTRIBUTES = {"a": "href", "link": "href", "area": "href", "img": "src", "audio": "src",
                   "video": "src", "source": "src", "iframe": "src", "embed": "src",
                   "object": "data"}
# Links marked up with these properties mean their target; other marked-up links mean their text.
_URL_PROPERTIES = frozenset({"url", "image", "logo", "sameas", "thumbnailurl", "contenturl",
                             "embedurl"})
_MIN_PARAGRAPH = 80
_SKIPPED_ANCESTORS = frozenset({"nav", "header", "footer", "aside", "form", "figcaption"})


def _attr(node: LexborNode, name: str) -> str:
    value = node.attributes.get(name)
    return value if isinstance(value, str) else ""


def _visible_text(node: LexborNode, *, limit: int) -> str:
    """Text of ``node`` without scripts and styles, whitespace collapsed, up to ``limit`` chars."""
    parts, size = [], 0
    for child in node.traverse(include_text=True):
        if not child.is_text_node:
            continue
        parent = child.parent
        if parent is not None and parent.tag in ("script", "style", "noscript", "template"):
            continue
        text = child.text_content or ""
        parts.append(text)
        size += len(text)
        if size >= limit:
            break
    return clean(" ".join(parts))


class Document:
    """A parsed page and its URL; every lookup is computed once, on first use."""

    def __init__(self, html: str, url: str) -> None:
        self.tree = LexborHTMLParser(html)
        self.url = url

    @cached_property
    def base(self) -> str:
        """The URL relative links resolve against: ``<base href>`` if usable, else the page URL."""
        node = self.tree.css_first("base[href]")
        base = absolute_url(_attr(node, "href"), self.url) if node else None
        if base or self.url:
            return base or self.url
        # A saved file without its URL: the page's own canonical address is the best base.
        for node in self.tree.css('link[rel~="canonical" i][href], meta[property="og:url"]'):
            found = absolute_url(_attr(node, "href") or _attr(node, "content"), "")
            if found:
                return found
        return ""

    @cached_property
    def meta(self) -> dict[str, list[str]]:
        """``<meta>`` contents by lower-cased property, name, itemprop or http-equiv."""
        found: dict[str, list[str]] = {}
        for node in self.tree.css("meta"):
            content = clean(_attr(node, "content") or _attr(node, "value"))
            if not content:
                continue
            for key in _META_KEYS:
                for name in _attr(node, key).lower().split():
                    found.setdefault(name, []).append(content)
        return found

    def meta_values(self, *names: str) -> list[str]:
        """Values of the given meta names, in the order of ``names``."""
        return [value for name in names for value in self.meta.get(name, ())]

    @cached_property
    def links(self) -> list[tuple[frozenset[str], str, dict[str, str]]]:
        """``<link>`` elements as (rel tokens, absolute href, attributes)."""
        found = []
        for node in self.tree.css("link[rel][href]"):
            href = absolute_url(_attr(node, "href"), self.base)
            if href:
                rel = frozenset(_attr(node, "rel").lower().split())
                attributes = {k: v for k, v in node.attributes.items() if isinstance(v, str)}
                found.append((rel, href, attributes))
        return found

    def link_hrefs(self, rel: str) -> list[str]:
        """Absolute hrefs of the ``<link>`` elements whose rel includes ``rel``."""
        return [href for rels, href, _ in self.links if rel in rels]

    @cached_property
    def jsonld(self) -> JsonLd:
        """Every ``application/ld+json`` script of the page, parsed."""
        return JsonLd(node.text(deep=True)
                      for node in self.tree.css('script[type*="ld+json" i]'))

    @cached_property
    def microdata(self) -> dict[str, list[str]]:
        """``itemprop`` values outside ``<meta>`` (those are in ``meta``); a nested item counts
        as its ``name``."""
        found: dict[str, list[str]] = {}
        for node in self.tree.css("[itemprop]"):
            if node.tag == "meta":
                continue
            props = _attr(node, "itemprop").lower().split()
            if "itemscope" in node.attributes:
                inner = node.css_first('[itemprop~="name" i]')
                value = "" if inner is None else clean(
                    _attr(inner, "content") or inner.text(deep=True, separator=" "))
            elif node.tag in _URL_ATTRIBUTES and (
                    node.tag != "a" or _URL_PROPERTIES.intersection(props)):
                value = clean(_attr(node, _URL_ATTRIBUTES[node.tag]))
            elif node.tag == "time":
                value = clean(_attr(node, "datetime") or node.text(deep=True, separator=" "))
            else:
                value = clean(_attr(node, "content") or node.text(deep=True, separator=" "))
            if value:
                for name in props:
                    found.setdefault(name, []).append(value)
        return found

    @cached_property
    def lang(self) -> str:
        """The ``<html lang>`` attribute, as written."""
        root = self.tree.root
        if root is None:
            return ""
        return _attr(root, "lang") or _attr(root, "xml:lang")

    @cached_property
    def title(self) -> str:
        """The ``<title>`` text (of the head, not of an inline SVG)."""
        node = self.tree.css_first("head title") or self.tree.css_first("title")
        return clean(node.text(deep=True)) if node else ""

    @cached_property
    def h1(self) -> str:
        """The first ``<h1>`` text."""
        node = self.tree.css_first("h1")
        return clean(node.text(deep=True, separator=" ")) if node else ""

    @cached_property
    def headings(self) -> list[str]:
        """The first few ``<h1>`` and ``<h2>`` texts, in document order."""
        found = (clean(node.text(deep=True, separator=" ")) for node in self.tree.css("h1, h2"))
        return [text for text, _ in zip(filter(None, found), range(8), strict=False)]

    @cached_property
    def home_names(self) -> list[str]:
        """Texts of links to the site's home page in headings and logos: the site's own name."""
        home = {urljoin(self.base, "/"), urljoin(self.base, "/").rstrip("/")} if self.base else set()
        found = []
        for node in self.tree.css("h1 a[href], h2 a[href], header a[href], [class*=logo] a[href]"):
            text = clean(node.text(deep=True, separator=" "))
            if text and len(found) < 3 and absolute_url(_attr(node, "href"), self.base) in home:
                found.append(text)
        return found

    def first_paragraph(self) -> str:
        """The first paragraph long enough to describe the page, outside navigation and footers."""
        for selector in ('article p, main p, [itemprop~="articleBody" i] p', "p"):
            for node in self.tree.css(selector):
                text = clean(node.text(deep=True, separator=" "))
                if len(text) < _MIN_PARAGRAPH:
                    continue
                parent, skipped = node.parent, False
                while parent is not None and not skipped:
                    skipped = parent.tag in _SKIPPED_ANCESTORS
                    parent = parent.parent
                if not skipped:
                    return text
        return ""

    def around_headline(self, before: int = 200, after: int = 500) -> str:
        """Visible text just before and after the first ``<h1>``: where datelines sit."""
        heading = self.tree.css_first("h1")
        if heading is None:
            return ""
        headline = clean(heading.text(deep=True, separator=" "))
        container, text = heading, headline
        # Climb until the container holds more than the headline itself.
        for _ in range(3):
            if container.parent is None or len(text) > len(headline) + after:
                break
            container = container.parent
            text = _visible_text(container, limit=20_000)
        start = text.find(headline) if headline else 0
        start = max(start, 0)
        return text[max(0, start - before): start + len(headline) + after]

    def text_sample(self, limit: int = 4000) -> str:
        """Visible text from the start of the body, for guessing the language from its script."""
        body = self.tree.body
        if body is None:
            return ""
        parts, size = [], 0
        for node in body.css("h1, h2, h3, p, li, td"):
            text = node.text(deep=True, separator=" ")
            parts.append(text)
            size += len(text)
            if size >= limit:
                break
        return " ".join(parts)
