"""Listing a user's links newest first, filtered, by page number or by an opaque keyset cursor.

Each filter walks an index in list order and stops after one page: the whole list on
``links_user_recent``, a status on ``links_user_status``, favorites and archived on their
partial indexes, a tag on ``link_tags_tag`` (which carries the link's created_at for this).
A cursor continues after the last row it saw, so deep pages cost the same as the first.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from linkarchive.errors import InvalidInput
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.loading import load_links
from linkarchive.storage.repositories.rows import LINK_COLUMNS, LINK_STATUSES, LinkPage

__all__ = ["LinkFilter", "count_links", "list_links"]

MAX_LIMIT = 100
_QUALIFIED_COLUMNS = ", ".join(f"l.{name.strip()}" for name in LINK_COLUMNS.split(","))

# -- Named SQL ---------------------------------------------------------------------------------
TAG_ID = "SELECT id FROM tags WHERE user_id = ? AND name = ?"
# {where} holds only the fixed fragments below; values are always parameters.
LIST_ALL = (f"SELECT {_QUALIFIED_COLUMNS} FROM links l"
            " WHERE l.user_id = ? AND l.deleted_at IS NULL{where}"
            " ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?")
LIST_TAGGED = (f"SELECT {_QUALIFIED_COLUMNS} FROM link_tags lt JOIN links l ON l.id = lt.link_id"
               " WHERE lt.tag_id = ? AND l.deleted_at IS NULL{where}"
               " ORDER BY lt.created_at DESC, lt.link_id DESC LIMIT ? OFFSET ?")
COUNT_ALL = "SELECT count(*) FROM links l WHERE l.user_id = ? AND l.deleted_at IS NULL{where}"
COUNT_TAGGED = ("SELECT count(*) FROM link_tags lt JOIN links l ON l.id = lt.link_id"
                " WHERE lt.tag_id = ? AND l.deleted_at IS NULL{where}")
AFTER_ALL = " AND (l.created_at, l.id) < (?, ?)"
AFTER_TAGGED = " AND (lt.created_at, lt.link_id) < (?, ?)"
# Literal booleans, not parameters: the planner must see them to pick a partial index.
FLAG_FILTERS = {
    ("favorite", True): " AND l.favorite", ("favorite", False): " AND NOT l.favorite",
    ("archived", True): " AND l.archived", ("archived", False): " AND NOT l.archived",
}


@dataclass(frozen=True, kw_only=True)
class LinkFilter:
    """Which links to list; None means "any"."""

    tag: str | None = None
    status: str | None = None
    favorite: bool | None = None
    archived: bool | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL fragments and parameters for everything but the tag."""
        sql, params = "", []
        if self.status is not None:
            if self.status not in LINK_STATUSES:
                raise InvalidInput(f"unknown status {self.status!r}; "
                                   f"expected one of {', '.join(LINK_STATUSES)}")
            sql += " AND l.status = ?"
            params.append(self.status)
        for flag in ("favorite", "archived"):
            value = getattr(self, flag)
            if value is not None:
                sql += FLAG_FILTERS[(flag, bool(value))]
        return sql, params


def encode_cursor(created_at: float, link_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([created_at, link_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The (created_at, id) a cursor continues after; InvalidInput when it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, link_id = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput("malformed cursor") from None
    if not isinstance(created_at, int | float) or not isinstance(link_id, str):
        raise InvalidInput("malformed cursor")
    return float(created_at), link_id


async def _tag_id(conn: Connection, user_id: int, name: str) -> int | None:
    return await conn.fetchval(TAG_ID, (user_id, name))


async def list_links(conn: Connection, user_id: int, *, filters: LinkFilter | None = None,
                     limit: int = 20, page: int = 1, cursor: str | None = None) -> LinkPage:
    """One page of the user's live links, newest first.

    With ``cursor`` (from a previous page) the page continues after it and ``page`` is ignored;
    otherwise ``page`` (1-based) counts pages of ``limit``.
    """
    filters = filters or LinkFilter()
    limit = max(1, min(limit, MAX_LIMIT))
    where, params = filters.where()
    offset = 0 if cursor is not None else (max(1, page) - 1) * limit
    if filters.tag is not None:
        tag_id = await _tag_id(conn, user_id, filters.tag)
        if tag_id is None:
            return LinkPage(items=(), next_cursor=None, has_more=False)
        sql, head = LIST_TAGGED, [tag_id]
        after = AFTER_TAGGED
    else:
        sql, head = LIST_ALL, [user_id]
        after = AFTER_ALL
    if cursor is not None:
        where += after
        params += list(decode_cursor(cursor))
    rows = await conn.fetchall(sql.format(where=where), (*head, *params, limit + 1, offset))
    has_more = len(rows) > limit
    items = await load_links(conn, rows[:limit])
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if has_more else None
    return LinkPage(items=tuple(items), next_cursor=next_cursor, has_more=has_more)


async def count_links(conn: Connection, user_id: int, *,
                      filters: LinkFilter | None = None) -> int:
    """How many live links ``list_links`` would go through with these filters."""
    filters = filters or LinkFilter()
    where, params = filters.where()
    if filters.tag is None:
        return await conn.fetchval(COUNT_ALL.format(where=where), (user_id, *params))
    tag_id = await _tag_id(conn, user_id, filters.tag)
    if tag_id is None:
        return 0
    return await conn.fetchval(COUNT_TAGGED.format(where=where), (tag_id, *params))
