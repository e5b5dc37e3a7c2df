"""A bookmark as a file states it, a line that could not be taken, and the parsing helpers
every format shares."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from linkarchive.errors import InvalidInput

__all__ = [
    "CHUNK",
    "MAX_NOTE",
    "MAX_TAG",
    "MAX_TAGS",
    "MAX_TITLE",
    "Entry",
    "Rejected",
    "clip",
    "parse_timestamp",
    "tag_list",
]

# Longer values are cut, as the API would refuse them: one hostile entry must not grow memory
# without bound either.
MAX_TITLE = 1_000
MAX_NOTE = 10_000
MAX_TAGS = 50
MAX_TAG = 200
CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One bookmark as a file states it; ``line`` is where it starts (1-based)."""

    url: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    created_at: float | None = None
    favorite: bool = False
    archived: bool = False
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class Rejected:
    """Something in the file that is not a bookmark we can take, and why."""

    line: int
    reason: str
    text: str = ""


def clip(value: str | None, limit: int) -> str | None:
    """``value`` without NULs (PostgreSQL text cannot hold one), stripped and cut to ``limit``
    characters; None when nothing is left."""
    if value is None:
        return None
    value = value.replace("\x00", "").strip()
    return value[:limit] if value else None


def tag_list(*groups: Iterable[str]) -> tuple[str, ...]:
    """Distinct non-empty names from ``groups``, in order, at most ``MAX_TAGS``."""
    seen: dict[str, None] = {}
    for group in groups:
        for name in group:
            name = name.replace("\x00", "").strip()
            if name:
                seen.setdefault(name[:MAX_TAG], None)
    return tuple(seen)[:MAX_TAGS]


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds from seconds, milliseconds or microseconds, or an ISO 8601 string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"not a date: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidInput(f"not a date: {text[:40]!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    if not math.isfinite(number) or number <= 0:
        return None
    # Some exporters write milliseconds or microseconds since the epoch.
    while number > 1e11:
        number /= 1000
    return number
