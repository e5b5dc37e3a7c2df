"""A user's links: save (deduplicated by URL hash), read, edit with a version check, delete.

Every change bumps the link's ``version`` and gives it the user's next change sequence number
(``changes.next_change_seq``), which is what sync pulls by. Another user's link id is simply
not found.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from linkarchive.errors import InvalidInput, NotFound
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.changes import next_change_seq
from linkarchive.storage.repositories.loading import load_links
from linkarchive.storage.repositories.rows import (
    LINK_COLUMNS,
    Link,
    Tombstone,
    VersionConflict,
    new_id,
)
from linkarchive.storage.repositories.search import reindex_links
from linkarchive.storage.repositories.tags import write_user_tags

__all__ = ["EDITABLE_FIELDS", "create_or_get", "delete_link", "get_link", "update_link"]

# Field → accepted Python types. ``tags`` replaces the link's tags (see write_user_tags).
EDITABLE_FIELDS: Mapping[str, tuple[type, ...]] = {
    "title": (str, type(None)),
    "note": (str, type(None)),
    "favorite": (bool,),
    "archived": (bool,),
    "tags": (list, tuple),
}
_SEARCHED = frozenset({"title", "note", "tags"})

# -- Named SQL ---------------------------------------------------------------------------------
LIVE_BY_URL = (f"SELECT {LINK_COLUMNS} FROM links"
               " WHERE user_id = ? AND url_hash = ? AND deleted_at IS NULL")
LIVE_BY_ID = f"SELECT {LINK_COLUMNS} FROM links WHERE id = ? AND user_id = ? AND deleted_at IS NULL"
# A concurrent save of the same URL loses quietly here and reads the winner's row instead.
INSERT_LINK = (
    "INSERT INTO links (id, user_id, url, url_hash, note, source, title, title_edited, favorite,"
    " archived, status, created_at, updated_at, change_seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (user_id, url_hash) WHERE deleted_at IS NULL DO NOTHING RETURNING id")
# {assignments} come from EDITABLE_FIELDS only; {version_check} is empty or "AND version = ?".
EDIT_LINK = (
    "UPDATE links SET {assignments} version = version + 1, change_seq = ?, updated_at = ?"
    " WHERE id = ? AND user_id = ? AND deleted_at IS NULL {version_check} RETURNING created_at")
DELETE_LINK = (
    "UPDATE links SET deleted_at = ?, version = version + 1, change_seq = ?, updated_at = ?"
    " WHERE id = ? AND user_id = ? AND deleted_at IS NULL {version_check} RETURNING version")
# A tombstone keeps no tags, so tag counts and tag lists only ever see live links.
DROP_LINK_TAGS = "DELETE FROM link_tags WHERE link_id = ?"


async def get_link(conn: Connection, user_id: int, link_id: str) -> Link:
    """The user's live link; NotFound for a missing, deleted or someone else's id."""
    row = await conn.fetchone(LIVE_BY_ID, (link_id, user_id))
    if row is None:
        raise NotFound(f"no link {link_id}")
    return (await load_links(conn, [row]))[0]


async def create_or_get(tx: Connection, user_id: int, url: str, url_hash: str, *,
                        note: str | None = None, source: str | None = None,
                        tags: Sequence[str] = (), title: str | None = None,
                        favorite: bool = False, archived: bool = False,
                        created_at: float | None = None,
                        completed: bool = False) -> tuple[Link, bool]:
    """Save a URL for the user, or answer the live link already saved with the same hash.

    A new link is ``pending`` at run 0; queue its scrape job in the same transaction. Imports
    also pass the bookmark's ``title`` (kept over the page's, like an edited one), flags, its
    original ``created_at``, and ``completed`` for a link that skips the pipeline.
    """
    existing = await tx.fetchone(LIVE_BY_URL, (user_id, url_hash))
    if existing is not None:
        return (await load_links(tx, [existing]))[0], False
    seq = await next_change_seq(tx, user_id)
    now = time.time()
    created = now if created_at is None else created_at
    link_id = new_id()
    inserted = await tx.fetchval(INSERT_LINK, (
        link_id, user_id, url, url_hash, note, source, title, title is not None, favorite,
        archived, "completed" if completed else "pending", created, now, seq))
    if inserted is None:
        winner = await tx.fetchone(LIVE_BY_URL, (user_id, url_hash))
        return (await load_links(tx, [winner]))[0], False
    if tags:
        await write_user_tags(tx, user_id, link_id, created, tags)
    await reindex_links(tx, [link_id])
    return await get_link(tx, user_id, link_id), True


def _check_changes(changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        accepted = EDITABLE_FIELDS.get(name)
        if accepted is None:
            raise InvalidInput(f"{name!r} cannot be edited; editable: {', '.join(EDITABLE_FIELDS)}")
        if not isinstance(value, accepted) or (name == "tags" and not all(
                isinstance(tag, str) for tag in value)):
            raise InvalidInput(f"{name!r} has the wrong type")


async def _stale(tx: Connection, user_id: int, link_id: str,
                 expected_version: int | None) -> Exception:
    """Why a guarded update touched nothing: the link is gone, or it moved on."""
    row = await tx.fetchone(LIVE_BY_ID, (link_id, user_id))
    if row is None or expected_version is None:
        return NotFound(f"no link {link_id}")
    return VersionConflict((await load_links(tx, [row]))[0])


async def update_link(tx: Connection, user_id: int, link_id: str, changes: Mapping[str, Any], *,
                      expected_version: int | None = None) -> Link:
    """Edit title, note, favorite, archived and/or tags; answer the new link.

    With ``expected_version`` a link changed since raises ``VersionConflict`` carrying the
    current link. A title set here is never replaced by a later scrape.
    """
    _check_changes(changes)
    if not changes:  # nothing to edit is not an edit: no new version
        link = await get_link(tx, user_id, link_id)
        if expected_version is not None and link.version != expected_version:
            raise VersionConflict(link)
        return link
    seq = await next_change_seq(tx, user_id)
    columns = [name for name in changes if name != "tags"]
    assignments = "".join(f"{name} = ?, " for name in columns)
    if "title" in changes:
        assignments += "title_edited = TRUE, "
    sql = EDIT_LINK.format(assignments=assignments,
                           version_check="" if expected_version is None else "AND version = ?")
    params: list[Any] = [changes[name] for name in columns]
    params += [seq, time.time(), link_id, user_id]
    if expected_version is not None:
        params.append(expected_version)
    created_at = await tx.fetchval(sql, params)
    if created_at is None:
        raise await _stale(tx, user_id, link_id, expected_version)
    if "tags" in changes:
        await write_user_tags(tx, user_id, link_id, created_at, changes["tags"])
    if _SEARCHED & changes.keys():
        await reindex_links(tx, [link_id])
    return await get_link(tx, user_id, link_id)


async def delete_link(tx: Connection, user_id: int, link_id: str, *,
                      expected_version: int | None = None) -> Tombstone:
    """Soft-delete: the row stays as a tombstone that sync hands to the user's other devices."""
    seq = await next_change_seq(tx, user_id)
    now = time.time()
    sql = DELETE_LINK.format(version_check="" if expected_version is None else "AND version = ?")
    params: list[Any] = [now, seq, now, link_id, user_id]
    if expected_version is not None:
        params.append(expected_version)
    version = await tx.fetchval(sql, params)
    if version is None:
        raise await _stale(tx, user_id, link_id, expected_version)
    await tx.execute(DROP_LINK_TAGS, (link_id,))
    await reindex_links(tx, [link_id])
    return Tombstone(id=link_id, version=version, deleted_at=now, change_seq=seq)
