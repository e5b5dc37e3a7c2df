"""Pocket's CSV export (``title,url,time_added,tags,status``), read one record at a time.

Tags are separated by ``|``; ``status`` is ``unread`` or ``archive``. Lines are read with a
length cap, so a file without line breaks cannot fill memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from linkarchive.errors import InvalidInput
from linkarchive.links.formats.entries import (
    MAX_TITLE,
    Entry,
    Rejected,
    clip,
    parse_timestamp,
    tag_list,
)

__all__ = ["read_pocket"]

MAX_LINE = 1024 * 1024
_COLUMNS = ("title", "url", "time_added", "tags", "status")


class _Lines:
    """The stream's lines, each at most ``MAX_LINE`` characters; a longer one is skipped
    (read through to its end) and its number remembered in ``cut``."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self.number = 0
        self.cut: set[int] = set()

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_LINE)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) == MAX_LINE and not line.endswith("\n"):
            while (rest := self._text.readline(MAX_LINE)) and not rest.endswith("\n"):
                pass
            self.cut.add(self.number)
            return "\n"
        return line


def _entry(row: dict[str, str], line: int) -> Entry | Rejected:
    url = (row.get("url") or "").strip()
    if not url:
        return Rejected(line=line, reason="the row has no url", text=",".join(row.values())[:200])
    title = clip(row.get("title"), MAX_TITLE)
    try:
        created = parse_timestamp(row.get("time_added"))
    except InvalidInput as exc:
        return Rejected(line=line, reason=f"time_added: {exc}", text=url[:200])
    return Entry(url=url, title=None if title == url else title, created_at=created, line=line,
                 tags=tag_list((row.get("tags") or "").split("|")),
                 archived=(row.get("status") or "").strip().lower() in ("archive", "archived"))


def read_pocket(stream: BinaryIO) -> Iterator[Entry | Rejected]:
    """The bookmarks of a Pocket CSV file; a missing header is taken to be Pocket's own."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    lines = _Lines(text)
    try:
        yield from _rows(lines, csv.reader(lines))
    finally:
        text.detach()  # the caller owns the binary stream


def _rows(lines: _Lines, reader: Iterator[list[str]]) -> Iterator[Entry | Rejected]:
    header: tuple[str, ...] | None = None
    while True:
        start = lines.number + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejected(line=start, reason=f"not valid CSV: {exc}")
            continue
        if start in lines.cut:
            yield Rejected(line=start, reason=f"the line is longer than {MAX_LINE} characters")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            names = tuple(cell.strip().lower() for cell in row)
            header = names if "url" in names else _COLUMNS
            if header is names:
                continue
        yield _entry(dict(zip(header, row, strict=False)), start)
