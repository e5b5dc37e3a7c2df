"""Bookmark files for the import tests: a realistic browser export, and big generated ones that
are produced lazily, a piece at a time, so their size never sits in the test's memory."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

__all__ = ["BROWSER_EXPORT", "DUPLICATES", "EXPECTED", "REJECTED_LINES", "LazyFile",
           "json_pieces", "netscape_pieces", "pocket_pieces"]

ICON = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9h" * 12

# What Chrome writes (containers marked, icons inline, dates in seconds), with the awkward
# parts real files have: entities, quotes, emoji, Korean, duplicates, bad and odd links.
BROWSER_EXPORT = f"""<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file.
     It will be read and overwritten.
     DO NOT EDIT! -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
    <DT><H3 ADD_DATE="1577836800" LAST_MODIFIED="1700000000" PERSONAL_TOOLBAR_FOLDER="true">Bookmarks bar</H3>
    <DL><p>
        <DT><A HREF="https://news.ycombinator.com/" ADD_DATE="1577836801" ICON="{ICON}">Hacker News</A>
        <DT><H3 ADD_DATE="1577836802" LAST_MODIFIED="1577836803">Dev</H3>
        <DL><p>
            <DT><H3 ADD_DATE="1577836804" LAST_MODIFIED="1577836805">Python</H3>
            <DL><p>
                <DT><A HREF="https://docs.python.org/3/library/html.parser.html?a=1&amp;b=2" ADD_DATE="1580000000">html.parser &#8212; Simple HTML &amp; XHTML parser</A>
                <DT><A HREF="https://example.com/say?q=%22hi%22" ADD_DATE="1580000001">He said &quot;hi&quot; 👋 &lt;b&gt;</A>
            </DL><p>
            <DT><A HREF="javascript:(function(){{alert('hi')}})()" ADD_DATE="1580000002">Bookmarklet</A>
            <DT><A HREF="https://example.com/tools" ADD_DATE="1580000003" TAGS="cli,Terminal">Tools I use</A>
            <DD>Keep: the one with "quotes" &amp; ampersands
and a second line
        </DL><p>
        <DT><H3 ADD_DATE="1577836806" LAST_MODIFIED="1577836807">한국어 자료</H3>
        <DL><p>
            <DT><A HREF="https://ko.wikipedia.org/wiki/%ED%95%9C%EA%B8%80" ADD_DATE="1590000000">한글 - 위키백과, 우리 모두의 백과사전</A>
            <DT><A HREF="https://blog.example.kr/김치찌개" ADD_DATE="1590000001">김치찌개 맛있게 끓이는 법 🍲</A>
        </DL><p>
    </DL><p>
    <DT><H3 ADD_DATE="1577836808" LAST_MODIFIED="1577836809">Other bookmarks</H3>
    <DL><p>
        <DT><A HREF="https://news.ycombinator.com/#comments" ADD_DATE="1600000000">Hacker News again</A>
        <DT><A HREF="https://example.com/tools?utm_source=newsletter&amp;utm_medium=email" ADD_DATE="1600000001">Tools (tracked)</A>
        <DT><A HREF="http://" ADD_DATE="1600000002">No host</A>
        <DT><A HREF="ftp://files.example.com/pub" ADD_DATE="1600000003">FTP</A>
        <DT><A ADD_DATE="1600000004">No address at all</A>
        <DT><A HREF="place:sort=8&amp;maxResults=10">Recently bookmarked</A>
        <DT><A HREF="https://example.org/no-date">No date</A>
    </DL><p>
</DL><p>
"""

# url → (title, tags, note, created_at) the import must store.
EXPECTED = {
    "https://news.ycombinator.com/": ("Hacker News", [], None, 1577836801.0),
    "https://docs.python.org/3/library/html.parser.html?a=1&b=2": (
        "html.parser \u2014 Simple HTML & XHTML parser", ["dev", "python"], None, 1580000000.0),
    "https://example.com/say?q=%22hi%22": ('He said "hi" 👋 <b>', ["dev", "python"], None,
                                           1580000001.0),
    "https://example.com/tools": (
        "Tools I use", ["cli", "dev", "terminal"],
        'Keep: the one with "quotes" & ampersands\nand a second line', 1580000003.0),
    "https://ko.wikipedia.org/wiki/%ED%95%9C%EA%B8%80": (
        "한글 - 위키백과, 우리 모두의 백과사전", ["한국어 자료"], None, 1590000000.0),
    "https://blog.example.kr/%EA%B9%80%EC%B9%98%EC%B0%8C%EA%B0%9C": (
        "김치찌개 맛있게 끓이는 법 🍲", ["한국어 자료"], None, 1590000001.0),
    "https://example.org/no-date": ("No date", [], None, None),
}
# What marks each line the import cannot take (duplicates are counted, not listed).
REJECTED_MARKERS = ("javascript:", 'HREF="http://"', "ftp://", "No address", "place:")
REJECTED_LINES = {number for number, line in enumerate(BROWSER_EXPORT.splitlines(), 1)
                  if any(marker in line for marker in REJECTED_MARKERS)}
DUPLICATES = 2


class LazyFile(io.RawIOBase):
    """A read-only binary file whose content is produced piece by piece as it is read."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._pending = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = piece
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.size += count
        return count


def _numbered(count: int, make: Callable[[int], str], head: str = "",
              tail: str = "") -> Iterator[bytes]:
    yield head.encode()
    for start in range(0, count, 1000):
        yield "".join(make(n) for n in range(start, min(count, start + 1000))).encode()
    yield tail.encode()


def netscape_pieces(count: int, *, folders: int = 50) -> Iterator[bytes]:
    """A browser export of ``count`` links in ``folders`` folders, with icons."""
    def link(n: int) -> str:
        folder = f'</DL><p>\n<DT><H3>Folder {n // max(1, count // folders)}</H3>\n<DL><p>\n' \
            if n % max(1, count // folders) == 0 else ""
        return (f'{folder}<DT><A HREF="https://site{n % 97}.example.com/articles/{n}?ref=feed"'
                f' ADD_DATE="{1500000000 + n}" ICON="{ICON}">Article {n} &amp; friends</A>\n')

    return _numbered(count, link, "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n<DL><p>\n",
                     "</DL><p>\n</DL><p>\n")


def pocket_pieces(count: int) -> Iterator[bytes]:
    return _numbered(count, lambda n: f'"Article {n}, ""quoted""",https://pocket{n % 97}'
                                      f'.example.com/{n},{1500000000 + n},a|b,unread\n',
                     "title,url,time_added,tags,status\n")


def json_pieces(count: int) -> Iterator[bytes]:
    def item(n: int) -> str:
        comma = "," if n < count - 1 else ""
        return (f'{{"url": "https://json{n % 97}.example.com/{n}", "title": "Article {n}",'
                f' "tags": ["a", "b"], "note": "{"x" * 200}",'
                f' "created_at": "2020-01-01T00:00:00Z"}}{comma}\n')

    return _numbered(count, item, "[\n", "]\n")
