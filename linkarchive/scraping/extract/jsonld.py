"""JSON-LD: tolerant parsing, ``@graph`` flattening, ``@id`` references, the page's main entity.

Real pages ship comments, CDATA wrappers, trailing commas, raw newlines inside strings and several
objects in one script; each of those still yields its entities.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

__all__ = ["JsonLd", "names", "texts", "types_of", "urls"]

_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_DECODER = json.JSONDecoder(strict=False)

# Lower rank wins when choosing what the page is about. Images, people and organisations are
# parts of most graphs (logos, authors), never what a page is about on their own.
_RANKS = (
    ({"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
      "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "scholarlyarticle",
      "techarticle", "report", "liveblogposting", "socialmediaposting", "posting", "blog",
      "discussionforumposting", "review", "recipe", "howto", "qapage"}, 0),
    ({"videoobject", "product", "event", "book", "musicrecording", "musicalbum", "podcastepisode",
      "audioobject", "movie", "tvepisode", "episode", "course", "softwareapplication",
      "mobileapplication", "jobposting"}, 1),
    ({"webpage", "itempage", "profilepage", "aboutpage", "collectionpage", "medicalwebpage",
      "searchresultspage", "faqpage"}, 2),
)


def types_of(entity: dict[str, Any]) -> set[str]:
    """The entity's ``@type`` names, lower-cased, without a schema.org prefix."""
    raw = entity.get("@type", ())
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return {v.rsplit("/", 1)[-1].lower() for v in values if isinstance(v, str)}


def _rank(entity: dict[str, Any]) -> int:
    kinds = types_of(entity)
    return next((rank for group, rank in _RANKS if kinds & group), 9)


def _load(text: str) -> Any:
    text = _WRAPPERS.sub("", text.strip()).strip().rstrip(";")
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    text = _TRAILING_COMMA.sub(r"\1", text)
    values, index = [], 0
    while index < len(text):
        try:
            value, index = _DECODER.raw_decode(text, index)
        except ValueError:
            break
        values.append(value)
        while index < len(text) and text[index] in " \t\r\n,;":
            index += 1
    return values or None


def _flatten(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        if "@graph" in value:
            yield from _flatten(value["@graph"])
        if "@type" in value:
            yield value
            main = value.get("mainEntity")
            if isinstance(main, (dict, list)):
                yield from _flatten(main)


def texts(value: Any) -> list[str]:
    """Strings in a JSON-LD value: a string, a list of them, or ``@value``/``name`` objects."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    if isinstance(value, dict):
        for key in ("@value", "name", "alternateName"):
            if key in value:
                return texts(value[key])
    return []


def names(value: Any) -> list[str]:
    """Names of people or organisations: strings, ``{"name": …}`` objects, lists of either."""
    if isinstance(value, dict):
        return texts(value.get("name")) or texts(value.get("alternateName"))
    if isinstance(value, list):
        return [name for item in value for name in names(item)]
    return texts(value)


def urls(value: Any) -> list[str]:
    """URLs in an image-like value: strings, ``ImageObject``s (``url``/``contentUrl``), lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [url for item in value for url in urls(item)]
    if isinstance(value, dict):
        for key in ("url", "contentUrl", "@id"):
            if key in value:
                return urls(value[key])
    return []


class JsonLd:
    """The JSON-LD entities of one page."""

    def __init__(self, scripts: Iterable[str]) -> None:
        self.entities: list[dict[str, Any]] = []
        for script in scripts:
            self.entities.extend(_flatten(_load(script)))
        self._by_id = {e["@id"]: e for e in self.entities if isinstance(e.get("@id"), str)}
        ranked = sorted((e for e in self.entities if _rank(e) < 9), key=_rank)
        self.main: dict[str, Any] | None = ranked[0] if ranked else None

    def resolve(self, value: Any) -> Any:
        """Follow ``{"@id": …}`` references to the entity they name (one level, lists too)."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self._by_id.get(value["@id"], value)
        return value

    def get(self, key: str, entity: dict[str, Any] | None = None) -> Any:
        """``key`` of ``entity`` (default the main entity), references resolved."""
        entity = self.main if entity is None else entity
        return self.resolve(entity.get(key)) if entity else None

    def first(self, *kinds: str) -> dict[str, Any] | None:
        """The first entity of one of ``kinds`` (lower-case type names)."""
        wanted = set(kinds)
        return next((e for e in self.entities if types_of(e) & wanted), None)
