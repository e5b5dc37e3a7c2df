"""Small text and URL helpers shared by the extractors: cleaning, absolute URLs, site suffixes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

__all__ = ["GENERIC_SEGMENTS", "SEPARATORS", "absolute_url", "clean", "key", "same_name", "trim_site_name"]

_SPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.I)
SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " » ", " › ", " « ", " • ", " ⋆ ", " : ",
              " ~ ", " / ", " // ", " >> ", " ǀ ", "│")
# Title segments that name no page: blog-engine and CMS defaults.
GENERIC_SEGMENTS = frozenset({"home", "startseite", "blog", "blogarchive", "blogarchiv", "news",
                              "index", "untitled", "accueil", "inicio"})
_NOT_WORD = re.compile(r"[\W_]+", re.U)


def clean(value: object) -> str:
    """Collapse whitespace and decode left-over entities (pages often double-encode them)."""
    if not isinstance(value, str):
        return ""
    if "&" in value and _ENTITY.search(value):
        value = html.unescape(value)
    return _SPACE.sub(" ", value).strip()


def absolute_url(value: str, base: str) -> str | None:
    """``value`` resolved against ``base``, or None unless it is an http(s) URL."""
    value = clean(value)
    if not value or value.startswith(("data:", "javascript:", "about:", "#")):
        return None
    try:
        resolved = urljoin(base, value) if base else value
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return resolved


def key(value: str) -> str:
    """``value`` reduced to its letters and digits, case-folded: for comparing names."""
    return _NOT_WORD.sub("", value.casefold())


def _host_names(url: str) -> set[str]:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if not host:
        return set()
    labels = host.split(".")
    # "news.example.co.uk" may call itself "example", "example.co.uk" or "news.example.co.uk".
    names = {host, *labels[:-1]}
    names.update(".".join(labels[i:]) for i in range(len(labels) - 1))
    return {key(name) for name in names if len(name) > 2}


def same_name(candidate: str, names: Iterable[str], url: str = "") -> bool:
    """True when ``candidate`` names the site: one of ``names`` or the page's host."""
    wanted = key(candidate)
    if not wanted:
        return False
    known = {key(n) for n in names if n} | _host_names(url)
    return wanted in known or any(
        len(k) > 3 and (wanted.startswith(k) or k.startswith(wanted))
        and min(len(wanted), len(k)) * 2 > max(len(wanted), len(k)) for k in known)


def _trim_once(title: str, names: list[str], url: str) -> str:
    for name in names:  # a site name that itself contains a separator
        for sep in SEPARATORS:
            if title.endswith(sep + name) and len(title) > len(sep + name):
                return title[: -len(sep + name)].strip()
            if title.startswith(name + sep) and len(title) > len(name + sep):
                return title[len(name + sep):].strip()
    for sep in SEPARATORS:
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        if head.strip() and (same_name(tail, names, url) or key(tail) in GENERIC_SEGMENTS):
            return head.strip()
        first, _, rest = title.partition(sep)
        if rest.strip() and (same_name(first, names, url) or key(first) in GENERIC_SEGMENTS):
            return rest.strip()
    return title


def trim_site_name(title: str, names: Iterable[str], url: str = "") -> str:
    """Drop " | Site" suffixes and "Site | " prefixes from ``title`` when they clearly name the
    site (or are a CMS default such as "Blog Archive")."""
    names = [n for n in names if n]
    for _ in range(3):
        trimmed = _trim_once(title, names, url)
        if trimmed == title:
            break
        title = trimmed
    return title
