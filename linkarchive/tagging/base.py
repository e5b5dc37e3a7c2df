"""What goes into tagging and what comes out: page facts, tags, results and the one error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from linkarchive.errors import ProcessingError

__all__ = [
    "CATEGORY",
    "KEYWORD",
    "SITE",
    "TYPE",
    "PageFacts",
    "Tag",
    "TagResult",
    "TaggingFailed",
]

# Tag kinds. Mood and difficulty are attributes of a result, not tags (see TagResult).
CATEGORY = "category"
TYPE = "type"
KEYWORD = "keyword"
SITE = "site"


@dataclass(frozen=True, kw_only=True)
class PageFacts:
    """A page's extracted metadata, filled by the caller from the extractor's output."""

    url: str
    title: str | None = None
    description: str | None = None
    site_name: str | None = None
    lang: str | None = None
    kind: str | None = None
    keywords: tuple[str, ...] = ()
    text: str | None = None

    @property
    def language(self) -> str | None:
        """The page's primary language (``ko-KR`` → ``ko``); Hangul text makes it ``ko``."""
        # Visible text beats the declaration: Korean pages often declare nothing, or "en".
        letters = [ch for ch in f"{self.title or ''} {self.description or ''}" if ch.isalpha()]
        hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3")
        if letters and 2 * hangul >= len(letters):
            return "ko"
        primary = (self.lang or "").strip().replace("_", "-").split("-")[0].lower()
        return primary or None


@dataclass(frozen=True)
class Tag:
    """One tag for a link: its name, kind and how sure we are (0..1)."""

    name: str
    kind: str
    confidence: float


@dataclass(frozen=True, kw_only=True)
class TagResult:
    """The tags for one link, where they came from and why the model was not used.

    ``mood`` and ``difficulty`` are kept as attributes rather than tags: every link would carry
    one of each, so as tags they would crowd out the topical ones and bloat the vocabulary.
    """

    tags: tuple[Tag, ...]
    source: Literal["model", "offline"]
    fallback_reason: str | None = None
    mood: str | None = None
    difficulty: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.tags)


class TaggingFailed(ProcessingError):
    """The model could not tag the page."""

    def __init__(self, reason: str, detail: str = "", *, transient: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(f"tagging failed ({reason}){': ' + detail if detail else ''}",
                         transient=transient, retry_after=retry_after)
        self.reason = reason
