"""Reading response bodies within bounds: byte caps, early stop for pages, HTTP status meaning.

Caps count decoded bytes (after gzip/deflate/br), so a small compressed bomb is cut as soon as
its output passes the cap; aiohttp inflates in bounded steps, so memory stays bounded too.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

from aiohttp import ClientResponse

from linkarchive.errors import FetchError

__all__ = ["media_type", "read_capped", "read_page_bytes", "retry_after", "status_error"]

_CHUNK = 64 * 1024
_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.I)
# Pages up to this size are read whole (JSON-LD and microdata often sit at the end of the body).
EARLY_STOP_AFTER = 512 * 1024
# Past the end of <head>, enough of the body for the first heading and paragraph.
BODY_MARGIN = 64 * 1024
_TRANSIENT_STATUSES = {408, 425, 429}
_MAX_RETRY_AFTER = 86_400.0


def media_type(response: ClientResponse) -> str:
    """The response's media type without parameters, lower-cased; "" when not given."""
    value = response.headers.get("Content-Type", "")
    return value.split(";", 1)[0].strip().lower()


async def read_capped(response: ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body; answer ``(body, more_was_left)``."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


async def read_page_bytes(response: ClientResponse, limit: int) -> tuple[bytes, bool]:
    """An HTML body up to ``limit`` bytes, stopping early on a big page once its head is read."""
    body = bytearray()
    head_end = -1
    async for chunk in response.content.iter_chunked(_CHUNK):
        scanned = len(body)
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
        if head_end < 0:
            # Re-scan a few bytes so a tag split across chunks is still found.
            match = _HEAD_END.search(body, max(0, scanned - 16))
            head_end = match.start() if match else -1
        if head_end >= 0 and len(body) >= max(EARLY_STOP_AFTER, head_end + BODY_MARGIN):
            return bytes(body), not response.content.at_eof()
    return bytes(body), False


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), _MAX_RETRY_AFTER)


def status_error(response: ClientResponse) -> FetchError:
    """The FetchError for a non-success status: 5xx, 408, 425 and 429 are worth retrying."""
    status = response.status
    reason = f"the site answered {status} {response.reason or ''}".rstrip()
    if status >= 500 or status in _TRANSIENT_STATUSES:
        delay = retry_after(response.headers.get("Retry-After"))
        return FetchError(reason, transient=True, retry_after=delay)
    return FetchError(reason)
