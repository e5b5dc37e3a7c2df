"""Our JSON export: an array of link objects, one per line; JSON Lines is read as well.

Read incrementally: each element is decoded as soon as the buffer holds it whole, so memory
holds one element and one chunk. A broken element is reported and skipped up to the next line.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

from linkarchive.errors import InvalidInput
from linkarchive.links.formats.entries import (
    CHUNK,
    MAX_NOTE,
    MAX_TITLE,
    Entry,
    Rejected,
    clip,
    parse_timestamp,
    tag_list,
)

__all__ = ["json_item", "read_json"]

MAX_ELEMENT = 1024 * 1024
_SEPARATORS = re.compile(r"[ \t\r\n,]*")


def _text(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"{what} must be a string")


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tag_list(value.split(","))
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tag_list(value)
    raise InvalidInput("tags must be a list of strings")


def _entry(item: object, line: int) -> Entry | Rejected:
    if not isinstance(item, Mapping):
        return Rejected(line=line, reason="not a JSON object", text=str(item)[:200])
    try:
        url = _text(item.get("url"), "url")
        if not url:
            raise InvalidInput("the object has no url")
        return Entry(url=url, title=clip(_text(item.get("title"), "title"), MAX_TITLE),
                     note=clip(_text(item.get("note"), "note"), MAX_NOTE),
                     tags=_tags(item.get("tags")), line=line,
                     created_at=parse_timestamp(item.get("created_at")),
                     favorite=item.get("favorite") is True, archived=item.get("archived") is True)
    except InvalidInput as exc:
        return Rejected(line=line, reason=str(exc), text=str(item.get("url", ""))[:200])


class _Buffer:
    """Decoded text read so far from ``pos`` on, and the line number at ``pos``."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self.text = ""
        self.pos = 0
        self.line = 1
        self.done = False

    @property
    def pending(self) -> int:
        return len(self.text) - self.pos

    def fill(self) -> bool:
        """Read one more chunk; False once the stream has nothing more to give."""
        if self.done:
            return False
        chunk = self.stream.read(CHUNK)
        self.done = not chunk
        self.text = self.text[self.pos:] + self.decoder.decode(chunk, final=self.done)
        self.pos = 0
        return True

    def consume(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_separators(self) -> None:
        self.consume(_SEPARATORS.match(self.text, self.pos).end())  # type: ignore[union-attr]


def read_json(stream: BinaryIO) -> Iterator[Entry | Rejected]:
    """The links of our JSON export (or JSON Lines), element by element."""
    decoder = json.JSONDecoder()
    buffer = _Buffer(stream)
    opened = False
    while True:
        buffer.skip_separators()
        if not buffer.pending:
            if buffer.fill():
                continue
            return
        first = buffer.text[buffer.pos]
        if first == "[" and not opened:
            opened = True
            buffer.consume(buffer.pos + 1)
            continue
        if first == "]":
            return
        try:
            item, end = decoder.raw_decode(buffer.text, buffer.pos)
        except json.JSONDecodeError as exc:
            if buffer.pending < MAX_ELEMENT and buffer.fill():
                continue  # most likely cut off by the chunk's end
            yield Rejected(line=buffer.line, reason=f"not valid JSON: {exc.msg}",
                           text=buffer.text[buffer.pos:buffer.pos + 200])
            newline = buffer.text.find("\n", buffer.pos + 1)
            buffer.consume(len(buffer.text) if newline < 0 else newline)
            continue
        line = buffer.line
        buffer.consume(end)
        yield _entry(item, line)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def json_item(entry: Entry, extra: Mapping[str, Any] | None = None) -> bytes:
    """One link as a compact JSON object (our export's element); ``extra`` adds fields that
    imports ignore (description, status, …)."""
    document: dict[str, Any] = {
        "url": entry.url, "title": entry.title, "note": entry.note, "tags": list(entry.tags),
        "favorite": entry.favorite, "archived": entry.archived,
        "created_at": None if entry.created_at is None else _iso(entry.created_at),
    }
    document.update(extra or {})
    return orjson.dumps(document)
