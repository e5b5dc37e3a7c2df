"""Tags: per-user names, the user's and the tagger's tags on a link, counts and vocabulary.

Tag names are stored as given; callers normalize them first (``linkarchive.tagging``). The
functions that change a link's tags here only touch ``tags``/``link_tags``: bumping the link's
version and reindexing it is the caller's job (``links.update_link``, ``pipeline``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Protocol

from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.rows import LinkTag, TagCount, placeholders

__all__ = [
    "USER_TAG_KIND",
    "TagSuggestion",
    "list_tags",
    "tags_for",
    "top_tag_names",
    "write_generated_tags",
    "write_user_tags",
]

USER_TAG_KIND = "user"

# -- Named SQL ---------------------------------------------------------------------------------
# A tag per (user, name); an existing one keeps the kind it was created with.
ENSURE_TAG = ("INSERT INTO tags (user_id, name, kind, created_at) VALUES (?, ?, ?, ?)"
              " ON CONFLICT (user_id, name) DO NOTHING")
TAG_IDS = "SELECT id, name FROM tags WHERE user_id = ? AND name IN ({names})"
LINK_TAG_ROWS = ("SELECT lt.tag_id, t.name, lt.generated, lt.confidence FROM link_tags lt"
                 " JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id = ?")
INSERT_LINK_TAG = ("INSERT INTO link_tags (link_id, tag_id, generated, confidence, created_at)"
                   " VALUES (?, ?, ?, ?, ?)")
DELETE_LINK_TAG = "DELETE FROM link_tags WHERE link_id = ? AND tag_id = ?"
SET_LINK_TAG = "UPDATE link_tags SET generated = ?, confidence = ? WHERE link_id = ? AND tag_id = ?"
# User tags first, then the tagger's by confidence; NULLs sort alike in both dialects this way.
TAGS_FOR_LINKS = (
    "SELECT lt.link_id, t.name, t.kind, lt.generated, lt.confidence FROM link_tags lt"
    " JOIN tags t ON t.id = lt.tag_id WHERE lt.link_id IN ({ids})"
    " ORDER BY lt.generated, COALESCE(lt.confidence, 0) DESC, t.name")
USER_TAGS_BY_USE = ("SELECT name, kind, link_count FROM tags WHERE user_id = ? AND link_count > 0"
                    " ORDER BY link_count DESC, name LIMIT ?")


class TagSuggestion(Protocol):
    """A generated tag: ``linkarchive.tagging.base.Tag`` fits."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def confidence(self) -> float: ...


def _clean(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        name = name.strip()
        if name and name not in seen:
            seen.append(name)
    return seen


async def _tag_ids(tx: Connection, user_id: int, kinds: dict[str, str]) -> dict[str, int]:
    """Ids of the user's tags named in ``kinds`` (name → kind), creating the missing ones."""
    if not kinds:
        return {}
    now = time.time()
    await tx.executemany(ENSURE_TAG, [(user_id, name, kind, now) for name, kind in kinds.items()])
    rows = await tx.fetchall(TAG_IDS.format(names=placeholders(len(kinds))),
                             (user_id, *kinds))
    return {row["name"]: row["id"] for row in rows}


async def write_user_tags(tx: Connection, user_id: int, link_id: str, created_at: float,
                          names: Sequence[str]) -> bool:
    """Make the link's tags exactly ``names``, all the user's; answer whether anything changed.

    Keeping a generated tag in the list confirms it: it becomes the user's, so re-tagging the
    link later never takes it away.
    """
    wanted = _clean(names)
    current = {row["name"]: row for row in await tx.fetchall(LINK_TAG_ROWS, (link_id,))}
    changed = False
    for name, row in current.items():
        if name not in wanted:
            await tx.execute(DELETE_LINK_TAG, (link_id, row["tag_id"]))
            changed = True
        elif row["generated"]:
            await tx.execute(SET_LINK_TAG, (False, None, link_id, row["tag_id"]))
            changed = True
    missing = {name: USER_TAG_KIND for name in wanted if name not in current}
    ids = await _tag_ids(tx, user_id, missing)
    if ids:
        await tx.executemany(INSERT_LINK_TAG, [(link_id, tag_id, False, None, created_at)
                                               for tag_id in sorted(ids.values())])
        changed = True
    return changed


async def write_generated_tags(tx: Connection, user_id: int, link_id: str, created_at: float,
                               tags: Sequence[TagSuggestion]) -> bool:
    """Replace the link's generated tags with ``tags``; the user's own tags stay as they are."""
    wanted: dict[str, TagSuggestion] = {}
    for tag in tags:
        name = tag.name.strip()
        if name and name not in wanted:
            wanted[name] = tag
    current = {row["name"]: row for row in await tx.fetchall(LINK_TAG_ROWS, (link_id,))}
    changed = False
    for name, row in current.items():
        if not row["generated"]:
            continue
        if name not in wanted:
            await tx.execute(DELETE_LINK_TAG, (link_id, row["tag_id"]))
            changed = True
        elif row["confidence"] != wanted[name].confidence:
            await tx.execute(SET_LINK_TAG, (True, wanted[name].confidence, link_id,
                                            row["tag_id"]))
            changed = True
    missing = {name: tag.kind for name, tag in wanted.items() if name not in current}
    ids = await _tag_ids(tx, user_id, missing)
    if ids:
        await tx.executemany(INSERT_LINK_TAG, [(link_id, ids[name], True, wanted[name].confidence,
                                                created_at) for name in sorted(ids)])
        changed = True
    return changed


async def tags_for(conn: Connection, link_ids: Sequence[str]) -> dict[str, tuple[LinkTag, ...]]:
    """The tags of each link, user tags first."""
    if not link_ids:
        return {}
    found: dict[str, list[LinkTag]] = {}
    rows = await conn.fetchall(TAGS_FOR_LINKS.format(ids=placeholders(len(link_ids))),
                               tuple(link_ids))
    for row in rows:
        found.setdefault(row["link_id"], []).append(LinkTag(
            name=row["name"], kind=row["kind"], generated=bool(row["generated"]),
            confidence=row["confidence"]))
    return {link_id: tuple(tags) for link_id, tags in found.items()}


async def list_tags(conn: Connection, user_id: int, *, limit: int = 1000) -> list[TagCount]:
    """The user's tags on live links, most used first, with how many links carry each."""
    rows = await conn.fetchall(USER_TAGS_BY_USE, (user_id, limit))
    return [TagCount(name=row["name"], kind=row["kind"], count=row["link_count"])
            for row in rows]


async def top_tag_names(conn: Connection, user_id: int, *, limit: int = 200) -> list[str]:
    """The user's most used tag names: the vocabulary the tagger folds new tags onto."""
    return [row["name"] for row in await conn.fetchall(USER_TAGS_BY_USE, (user_id, limit))]
