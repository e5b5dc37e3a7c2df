"""Netscape bookmark HTML: what browsers, Pocket, Raindrop and linkding export, read and written.

Read with ``html.parser`` fed one chunk at a time. Folders (``<H3>`` before a ``<DL>``) become
tags, except the browsers' own containers (bookmarks bar, other bookmarks, …); ``TAGS`` (or
Pocket's ``tags``) adds more; ``ADD_DATE`` (or ``time_added``) is the creation time; a ``<DD>``
after a link is its note; Pocket's "Read Archive" section marks links archived.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import BinaryIO

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

__all__ = ["netscape_footer", "netscape_header", "netscape_item", "read_netscape"]

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Browser containers, by attribute and by their usual English names: not topics.
_CONTAINER_ATTRIBUTES = ("personal_toolbar_folder", "unfiled_bookmarks_folder")
_CONTAINER_NAMES = frozenset({"bookmarks bar", "bookmarks toolbar", "other bookmarks",
                              "mobile bookmarks", "bookmarks menu", "unsorted bookmarks"})
_ARCHIVE_SECTIONS = frozenset({"read archive", "archive", "archived"})
_TRUE = frozenset({"1", "true", "yes"})


@dataclass(kw_only=True)
class _Open:
    """A link read up to its ``</A>``, waiting for a possible ``<DD>`` note."""

    attrs: dict[str, str]
    line: int
    folders: tuple[str, ...]
    archived: bool
    title: list[str] = field(default_factory=list)
    note: list[str] = field(default_factory=list)
    size: int = 0


class _BookmarkParser(HTMLParser):
    """Collects entries into ``self.ready`` as the fed text completes them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ready: list[Entry | Rejected] = []
        self._folders: list[str | None] = []
        self._heading: str | None = None  # a folder name waiting for its <DL>
        self._capture: list[str] | None = None  # text of the <H3>/<H1> being read
        self._archived = False
        self._link: _Open | None = None
        self._where = ""  # "title" inside <A>, "note" after <DD>

    # Every structural tag ends the note of the link before it.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._finish()
            self._link = _Open(attrs={k: v or "" for k, v in attrs}, line=self.getpos()[0],
                               folders=tuple(f for f in self._folders if f),
                               archived=self._archived)
            self._where = "title"
        elif tag == "dd" and self._link is not None:
            self._where = "note"
        elif tag in ("dt", "li", "dl", "ul", "h1", "h2", "h3"):
            self._finish()
            if tag == "dl":
                self._folders.append(self._heading)
                self._heading = None
            elif tag in ("h1", "h2", "h3"):
                container = tag == "h3" and any(dict(attrs).get(a) for a in _CONTAINER_ATTRIBUTES)
                self._capture = None if container else []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._where = ""
        elif tag in ("h1", "h2", "h3"):
            captured, self._capture = self._capture, None
            text = " ".join("".join(captured or ()).split())
            if tag == "h3":
                named = captured is not None and text.lower() not in _CONTAINER_NAMES
                self._heading = text if named and text else None
            else:
                self._archived = text.lower() in _ARCHIVE_SECTIONS
        elif tag in ("dl", "ul"):
            self._finish()
            if tag == "dl" and self._folders:
                self._folders.pop()

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            if sum(map(len, self._capture)) < MAX_TITLE:
                self._capture.append(data)
            return
        link = self._link
        if link is None or not self._where or link.size > MAX_NOTE:
            return
        link.size += len(data)
        (link.title if self._where == "title" else link.note).append(data)

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        link, self._link, self._where = self._link, None, ""
        if link is None:
            return
        attrs = link.attrs
        href = attrs.get("href", "").strip()
        if not href:
            self.ready.append(Rejected(line=link.line, reason="the link has no HREF",
                                       text="".join(link.title)[:200]))
            return
        try:
            created = parse_timestamp(attrs.get("add_date") or attrs.get("time_added"))
        except InvalidInput:
            created = None  # a broken date is not worth losing the bookmark over
        self.ready.append(Entry(
            url=href, title=clip("".join(link.title), MAX_TITLE),
            note=clip("".join(link.note), MAX_NOTE),
            tags=tag_list(link.folders, attrs.get("tags", "").split(",")),
            created_at=created, line=link.line,
            favorite=attrs.get("favorite", "").lower() in _TRUE,
            archived=link.archived or attrs.get("archived", "").lower() in _TRUE))


def _decoder(head: bytes) -> codecs.IncrementalDecoder:
    """A decoder for the file's declared charset (UTF-8 when none or an unknown one)."""
    found = _CHARSET.search(head[:4096])
    name = found.group(1).decode("ascii") if found else "utf-8"
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = codecs.lookup("utf-8")
    if info.name == "utf-8" and head.startswith(codecs.BOM_UTF8):
        info = codecs.lookup("utf-8-sig")
    return info.incrementaldecoder(errors="replace")


def read_netscape(stream: BinaryIO) -> Iterator[Entry | Rejected]:
    """The bookmarks of a Netscape HTML file, as each one is complete."""
    parser = _BookmarkParser()
    decoder: codecs.IncrementalDecoder | None = None
    while chunk := stream.read(CHUNK):
        if decoder is None:
            decoder = _decoder(chunk)
        parser.feed(decoder.decode(chunk))
        yield from parser.ready
        parser.ready.clear()
    if decoder is not None:
        parser.feed(decoder.decode(b"", final=True))
    parser.close()
    yield from parser.ready


def netscape_header() -> str:
    return ("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n"
            "<!-- This is an automatically generated file. It will be read and overwritten."
            " DO NOT EDIT! -->\n"
            '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">\n'
            "<TITLE>Bookmarks</TITLE>\n<H1>Bookmarks</H1>\n<DL><p>\n")


def netscape_item(entry: Entry) -> str:
    """One bookmark as a ``<DT><A …>`` line (and a ``<DD>`` note); flags only when set."""
    attrs = [f'HREF="{html.escape(entry.url)}"']
    if entry.created_at is not None:
        attrs.append(f'ADD_DATE="{int(entry.created_at)}"')
    if entry.tags:
        attrs.append(f'TAGS="{html.escape(",".join(entry.tags))}"')
    if entry.favorite:
        attrs.append('FAVORITE="1"')
    if entry.archived:
        attrs.append('ARCHIVED="1"')
    line = f"    <DT><A {' '.join(attrs)}>{html.escape(entry.title or '', quote=False)}</A>\n"
    if entry.note:
        line += f"    <DD>{html.escape(entry.note, quote=False)}\n"
    return line


def netscape_footer() -> str:
    return "</DL><p>\n"
