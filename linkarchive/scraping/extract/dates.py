"""Publication dates as pages write them, turned into ISO 8601.

A value with a time keeps it (with its offset when given); a bare date stays a date. Years far
outside the web's lifetime are refused: they are usually ids or prices, not dates.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["date_from_url", "find_date", "parse_date"]

_MONTHS = {
    # English, German, French, Spanish, Italian, Portuguese, Dutch (first letters suffice)
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12, "mär": 3, "mai": 5, "okt": 10, "dez": 12, "janv": 1,
    "févr": 2, "fév": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7, "août": 8, "déc": 12,
    "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "mag": 5, "giu": 6, "lug": 7, "set": 9,
    "ott": 10, "fev": 2, "out": 10, "dez.": 12, "mrt": 3, "mei": 5, "okt.": 10,
}
_ISO = re.compile(
    r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}\b|UTC|GMT)?)?")
_YMD = re.compile(r"\b(\d{4})\s*[./년年-]\s*(\d{1,2})\s*[./월月-]\s*(\d{1,2})(?!\d)")
_DMY = re.compile(r"\b(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4})\b")
_NAMED_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:de\s+)?([^\W\d_]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b")
_NAMED_MDY = re.compile(r"\b([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/?([01]?\d)/?([0-3]?\d)?(?:/|[_-](?!\d))")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
_EARLIEST = 1995


def _plausible(year: int, month: int, day: int) -> date | None:
    latest = datetime.now(UTC).year + 1
    if not _EARLIEST <= year <= latest:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month(name: str) -> int | None:
    name = name.lower()
    for length in (5, 4, 3):
        if name[:length] in _MONTHS:
            return _MONTHS[name[:length]]
    return None


def _offset(zone: str | None) -> str:
    if not zone:
        return ""
    if zone in ("Z", "UTC", "GMT"):
        return "+00:00"
    digits = zone.replace(":", "")
    return f"{digits[:3]}:{digits[3:5] or '00'}"


def _from_iso(match: re.Match[str]) -> str | None:
    year, month, day, hour, minute, second, zone = match.groups()
    day_ = _plausible(int(year), int(month), int(day))
    if day_ is None:
        return None
    if hour is None or (int(hour), int(minute), int(second or 0)) == (0, 0, 0) and not zone:
        return day_.isoformat()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        return day_.isoformat()
    return f"{day_.isoformat()}T{int(hour):02d}:{minute}:{int(second or 0):02d}{_offset(zone)}"


def parse_date(value: object) -> str | None:
    """ISO 8601 for a date as pages write it (ISO, RFC 2822, "May 5, 2020", "5. Mai 2020",
    "2020.05.05", "2020년 5월 5일", epoch seconds), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:100]
    if not text:
        return None
    if _EPOCH.match(text):
        seconds = int(text[:10])
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
        return moment.isoformat() if _plausible(moment.year, 1, 1) else None
    match = _ISO.match(text)
    if match:
        return _from_iso(match)
    if text[:3].isalpha() and "," in text[:5]:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None and _plausible(moment.year, moment.month, moment.day):
            return moment.isoformat()
    return find_date(text)


def find_date(text: str) -> str | None:
    """A date found inside free text, in the common written orders; date only."""
    found: date | None = None
    if match := _YMD.search(text):
        found = _plausible(int(match[1]), int(match[2]), int(match[3]))
    elif match := _DMY.search(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        # Day first unless that is impossible (US pages write month first).
        found = _plausible(year, second, first) or _plausible(year, first, second)
    elif match := _NAMED_DMY.search(text):
        month = _month(match[2])
        found = _plausible(int(match[3]), month, int(match[1])) if month else None
    elif match := _NAMED_MDY.search(text):
        month = _month(match[1])
        found = _plausible(int(match[3]), month, int(match[2])) if month else None
    return found.isoformat() if found else None


def date_from_url(url: str) -> str | None:
    """The date in a URL path such as ``/2020/05/12/slug`` (a month alone is not a date)."""
    match = _URL_DATE.search(url)
    if not match or not match[3]:
        return None
    found = _plausible(int(match[1]), int(match[2]), int(match[3]))
    return found.isoformat() if found else None
