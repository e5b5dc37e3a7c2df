"""Exporting a user's links as Netscape bookmark HTML or our JSON, a page at a time.

Both keep what an import reads back: URL, title, tags, note, favorite, archived and the
creation time (HTML to the second, as browsers store it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import anyio

from linkarchive.errors import InvalidInput
from linkarchive.links.formats.entries import Entry
from linkarchive.links.formats.jsonexport import json_item
from linkarchive.links.formats.netscape import netscape_footer, netscape_header, netscape_item
from linkarchive.services import Services
from linkarchive.storage.repositories.listing import MAX_LIMIT, list_links
from linkarchive.storage.repositories.rows import Link

__all__ = ["EXPORT_FORMATS", "export_links", "link_entry"]

EXPORT_FORMATS = ("html", "json")


def link_entry(link: Link) -> Entry:
    """What an export keeps of a link."""
    return Entry(url=link.url, title=link.title, note=link.note, created_at=link.created_at,
                 tags=tuple(tag.name for tag in link.tags), favorite=link.favorite,
                 archived=link.archived)


def _html(links: list[Link], first: bool, last: bool) -> bytes:
    text = netscape_header() if first else ""
    text += "".join(netscape_item(link_entry(link)) for link in links)
    return (text + (netscape_footer() if last else "")).encode()


def _json(links: list[Link], first: bool, last: bool) -> bytes:
    items = [json_item(link_entry(link), {"id": link.id, "description": link.description,
                                          "status": link.status}) for link in links]
    body = b",\n".join(items)
    head = b"[\n" if first else (b",\n" if items else b"")
    return head + body + (b"\n]\n" if last else b"")


async def export_links(services: Services, user_id: int, out: BinaryIO, *,
                       fmt: str = "html") -> int:
    """Write the user's live links, newest first, to ``out``; answer how many."""
    render: Callable[[list[Link], bool, bool], bytes]
    if fmt == "html":
        render = _html
    elif fmt == "json":
        render = _json
    else:
        raise InvalidInput(f"unknown export format {fmt!r}; expected html or json")
    cursor: str | None = None
    count = 0
    while True:
        async with services.database.read() as conn:
            page = await list_links(conn, user_id, limit=MAX_LIMIT, cursor=cursor)
        links = list(page.items)
        data = render(links, count == 0, not page.has_more)
        count += len(links)
        await anyio.to_thread.run_sync(out.write, data)
        if not page.has_more:
            return count
        cursor = page.next_cursor
