"""Bookmark file formats: reading a file of any of them as a stream of entries.

Every reader takes a binary file and yields ``Entry`` or ``Rejected`` one at a time, holding no
more than one entry and one read chunk in memory, whatever the file's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from linkarchive.errors import InvalidInput
from linkarchive.links.formats.entries import Entry, Rejected
from linkarchive.links.formats.jsonexport import read_json
from linkarchive.links.formats.netscape import read_netscape
from linkarchive.links.formats.pocket import read_pocket

__all__ = ["FORMATS", "Entry", "Rejected", "detect_format", "read_entries"]

_READERS = {"netscape": read_netscape, "pocket": read_pocket, "json": read_json}
FORMATS = tuple(_READERS)

_POCKET_HEADER = re.compile(rb"\s*title\s*,\s*url\s*,", re.IGNORECASE)


def detect_format(head: bytes, name: str = "") -> str:
    """Guess a file's format from its first bytes, then from its name."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    lowered = text[:8192].lower()
    name = name.lower()
    if text[:1] in (b"[", b"{"):
        return "json"
    if _POCKET_HEADER.match(text):
        return "pocket"
    if b"<!doctype netscape" in lowered or b"<dl" in lowered or b"<a " in lowered:
        return "netscape"
    for suffixes, fmt in (((".html", ".htm"), "netscape"), ((".csv",), "pocket"),
                          ((".json", ".jsonl"), "json")):
        if name.endswith(suffixes):
            return fmt
    raise InvalidInput("cannot tell the file's format; pass --format netscape, pocket or json")


def read_entries(stream: BinaryIO, fmt: str) -> Iterator[Entry | Rejected]:
    """The entries of a file in format ``fmt`` (one of ``FORMATS``), read as they come."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise InvalidInput(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return reader(stream)
