"""What the API's route modules share: the caller's identity, ids, tags and schema pieces."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from linkarchive.errors import InvalidInput, NotFound, Unauthorized
from linkarchive.http.keys import CLAIMS, SERVICES
from linkarchive.http.schema import Schema
from linkarchive.tagging.normalize import MAX_TAG_LENGTH, clean_tags

if TYPE_CHECKING:
    from linkarchive.services import Services

__all__ = [
    "MAX_NOTE",
    "MAX_TAGS",
    "MAX_TITLE",
    "MAX_VERSION",
    "TAGS_SCHEMA",
    "check_link_id",
    "clean_tags",
    "is_link_id",
    "nullable_text",
    "parse_timestamp",
    "rfc3339",
    "services_of",
    "text",
    "user_id_of",
]

MAX_VERSION = 2**53 - 1  # the largest integer every JSON client reads exactly
MAX_NOTE = 10_000
MAX_TITLE = 1_000
MAX_TAGS = 50
# PostgreSQL text cannot hold NUL, so no text the API stores may contain one.
_NO_NUL = "^[^\\u0000]*$"
_LINK_ID = re.compile(r"[0-9a-f]{32}", re.ASCII)


def text(max_length: int, **extra: Any) -> Schema:
    """A string schema of at most ``max_length`` characters without NUL."""
    return {"type": "string", "maxLength": max_length, "pattern": _NO_NUL, **extra}


def nullable_text(max_length: int, **extra: Any) -> Schema:
    return {"type": ["string", "null"], "maxLength": max_length, "pattern": _NO_NUL, **extra}


TAGS_SCHEMA: Schema = {
    "type": "array", "maxItems": MAX_TAGS, "items": text(200, minLength=1),
    "description": f"Tag names; normalized (NFC, case, spacing), 1–{MAX_TAG_LENGTH} characters"
                   " with at least one letter.",
}


def services_of(request: web.Request) -> Services:
    """The service container the app was created with."""
    return cast("Services", request.app[SERVICES])


def user_id_of(request: web.Request) -> int:
    """The signed-in user's id, from the verified access token."""
    subject = request[CLAIMS].user_id
    if not subject.isdecimal():
        raise Unauthorized("Invalid access token: the 'sub' claim is not a user id.")
    return int(subject)


def is_link_id(value: object) -> bool:
    return isinstance(value, str) and _LINK_ID.fullmatch(value) is not None


def check_link_id(request: web.Request) -> str:
    """The ``{id}`` path parameter; a malformed id names no link, so it is a 404."""
    link_id = request.match_info["id"]
    if not is_link_id(link_id):
        raise NotFound(f"There is no link {link_id[:64]!r}.")
    return link_id


def rfc3339(timestamp: float | None, *, timespec: str = "milliseconds") -> str | None:
    """Epoch seconds as an RFC 3339 UTC timestamp, truncated (never later) to ``timespec``;
    None for None or a moment no calendar date can show."""
    if timestamp is None:
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):  # a scraped date far outside years 1–9999
        return None
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_timestamp(value: str, what: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp with a time zone; InvalidInput otherwise."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value.upper():
        raise InvalidInput(f"{what} must be an RFC 3339 timestamp with a time zone, such as"
                           " 2025-10-05T09:00:00Z.")
    return moment.timestamp()
