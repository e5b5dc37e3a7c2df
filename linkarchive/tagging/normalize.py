"""Tag normalization, and folding generated tags onto the spelling a user already has.

Two tags fold together when they differ only in case, spacing, punctuation (hyphen, underscore,
dot, …) or an English plural; nothing fuzzier, so distinct topics never merge.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from linkarchive.errors import InvalidInput
from linkarchive.tagging.words import STOP_WORDS, UNCOUNTABLE

__all__ = ["MAX_TAG_LENGTH", "Vocabulary", "clean_tags", "fold_key", "fold_tags", "normalize_tag"]

MAX_TAG_LENGTH = 40

# Letters of the scripts with case that users expect folded: Latin (incl. full-width), Greek,
# Cyrillic. Hangul and CJK have no case; other cased scripts are left as written.
_CASED_RUN = re.compile(
    "[A-Za-z\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uff21-\uff3a\uff41-\uff5a"
    "\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]+")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^www\.|^[\w-]+(\.[\w-]+)+/")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ/ZWJ carry meaning in Persian and emoji


def _is_edge_junk(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch.isspace() or category[0] == "P" or category in ("So", "Sk", "Sc")


def _is_separator(ch: str) -> bool:
    # '#' stays: "c#" is not "c". '+' is a symbol, so "c++" is not "c" either.
    return ch.isspace() or (unicodedata.category(ch)[0] == "P" and ch != "#")


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge_junk(text[start]):
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        # A single letter and '#' is a name (c#, f#), not a hashtag mark.
        if text[end - 1] == "#" and end - start == 2 and text[start].isascii():
            break
        end -= 1
    return text[start:end]


# Every tagging call normalizes the user's whole vocabulary again; the names repeat.
@functools.lru_cache(maxsize=16384)
def normalize_tag(raw: str) -> str | None:
    """The canonical form of a tag, or None when ``raw`` is not a usable tag."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text
                   if ch in _JOINERS or unicodedata.category(ch) not in ("Cc", "Cf"))
    text = _strip_edges(" ".join(text.split()))
    text = unicodedata.normalize("NFC", _CASED_RUN.sub(lambda m: m.group().lower(), text))
    if not 1 <= len(text) <= MAX_TAG_LENGTH:
        return None
    # At least one letter: pure numbers, dates and symbol runs are not tags.
    if not any(unicodedata.category(ch)[0] == "L" for ch in text):
        return None
    if _URL.search(text) or _EMAIL.match(text) or text in STOP_WORDS:
        return None
    return text


def clean_tags(names: Iterable[str], *, drop_invalid: bool = False) -> list[str]:
    """A user's tag names normalized and deduplicated, in order; InvalidInput names the first
    unusable one, unless ``drop_invalid`` (imports: a folder called "2019" is simply no tag)."""
    cleaned: list[str] = []
    for name in names:
        tag = normalize_tag(name)
        if tag is None:
            if drop_invalid:
                continue
            raise InvalidInput(f"{name[:60]!r} is not a usable tag: a tag is 1–{MAX_TAG_LENGTH}"
                               " characters with at least one letter, not a URL or stop word.")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def fold_key(tag: str) -> str:
    """A normalized tag with its spacing and punctuation removed."""
    return "".join("".join(" " if _is_separator(ch) else ch for ch in tag).split())


def _plural_variants(tag: str, key: str) -> tuple[str, ...]:
    """Keys ``key`` may have in its other English number, most likely first."""
    words = "".join(" " if _is_separator(ch) else ch for ch in tag).split()
    last = words[-1] if words else ""
    if not (last.isascii() and last.isalpha()) or last in UNCOUNTABLE:
        return ()
    if last.endswith(("ss", "us", "is")):
        return (key + "es",)
    if last.endswith("s"):
        # Short words ending in s (gas, yes, its) are rarely plurals.
        if len(last) <= 3:
            return ()
        if last.endswith("ies"):
            return key[:-1], key[:-3] + "y"
        return (key[:-1], key[:-2]) if last.endswith("es") else (key[:-1],)
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return key[:-1] + "ies", key + "s"
    if last.endswith(("x", "z", "ch", "sh")):
        return (key + "es",)
    return (key + "s",)


class Vocabulary:
    """Tags a user already has, looked up by folded form; the first spelling of a form wins."""

    def __init__(self, existing: Iterable[str] = ()) -> None:
        self._by_key: dict[str, str] = {}
        for name in existing:
            normalized = normalize_tag(name)
            if normalized is not None:
                self._by_key.setdefault(fold_key(normalized), name)

    def __len__(self) -> int:
        return len(self._by_key)

    def lookup(self, raw: str) -> str | None:
        """The existing spelling ``raw`` folds onto, or None."""
        normalized = normalize_tag(raw)
        return None if normalized is None else self._lookup(normalized)

    def add(self, raw: str) -> str | None:
        """Fold ``raw`` onto an existing tag or take it in; None when it is not a tag."""
        normalized = normalize_tag(raw)
        if normalized is None:
            return None
        existing = self._lookup(normalized)
        if existing is not None:
            return existing
        self._by_key[fold_key(normalized)] = normalized
        return normalized

    def _lookup(self, normalized: str) -> str | None:
        key = fold_key(normalized)
        if key in self._by_key:
            return self._by_key[key]
        for variant in _plural_variants(normalized, key):
            if variant in self._by_key:
                return self._by_key[variant]
        return None


def fold_tags(candidates: Iterable[str], existing_vocabulary: Iterable[str], *,
              max_tags: int = 5) -> list[str]:
    """Normalize ``candidates``, fold each onto the vocabulary, drop repeats; at most ``max_tags``."""
    vocabulary = Vocabulary(existing_vocabulary)
    folded: list[str] = []
    for raw in candidates:
        if len(folded) == max_tags:
            break
        name = vocabulary.add(raw)
        if name is not None and name not in folded:
            folded.append(name)
    return folded
