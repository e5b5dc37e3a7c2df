"""Full-text search over title, tags, description, note and URL, scoped to one user.

Both dialects index the character-bigram keys of ``textindex``: SQLite in an FTS5 table ranked
by BM25 with per-field weights, PostgreSQL in a GIN-indexed ``tsvector`` ranked by ``ts_rank``
with the same field order. The user's text only ever becomes quoted letter-and-digit tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linkarchive.storage.database import Connection
from linkarchive.storage.repositories import textindex
from linkarchive.storage.repositories.loading import load_links
from linkarchive.storage.repositories.rows import SearchPage, placeholders
from linkarchive.storage.repositories.tags import tags_for

__all__ = ["reindex_links", "search_links"]

MAX_LIMIT = 100

# -- Named SQL ---------------------------------------------------------------------------------
INDEX_SOURCE = {
    "sqlite": "SELECT rid, id, user_id, created_at, deleted_at, title, description, note, url,"
              " canonical_url FROM links WHERE id IN ({ids})",
    "postgres": "SELECT id, user_id, created_at, deleted_at, title, description, note, url,"
                " canonical_url FROM links WHERE id IN ({ids})",
}
# FTS5 has no upsert: the old row goes, the new one comes.
SQLITE_UNINDEX = "DELETE FROM link_search WHERE rowid = ?"
SQLITE_INDEX = ("INSERT INTO link_search (rowid, owner, title, tags, description, note, url)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")
POSTGRES_UNINDEX = "DELETE FROM link_search WHERE link_id = ?"
POSTGRES_INDEX = ("INSERT INTO link_search (link_id, user_id, created_at, document)"
                  " VALUES (?, ?, ?, CAST(? AS tsvector))"
                  " ON CONFLICT (link_id) DO UPDATE SET document = excluded.document")
# BM25 weights per column (owner, title, tags, description, note, url); lower scores are better.
SQLITE_SEARCH = (
    "SELECT l.* FROM (SELECT rowid AS rid, bm25(link_search, 0, 8, 5, 2, 2, 1) AS score"
    "  FROM link_search WHERE link_search MATCH ? ORDER BY score, rowid DESC LIMIT ? OFFSET ?)"
    " AS hits JOIN links l ON l.rid = hits.rid"
    " WHERE l.user_id = ? AND l.deleted_at IS NULL ORDER BY hits.score, hits.rid DESC")
# A tsquery parameter defeats a generic plan (it cannot know how selective the query is), so
# the search runs with custom plans only.
POSTGRES_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
POSTGRES_SEARCH = (
    "SELECT l.* FROM (SELECT link_id, ts_rank(document, query) AS score, created_at"
    "  FROM link_search, CAST(? AS tsquery) AS query WHERE user_id = ? AND document @@ query"
    "  ORDER BY score DESC, created_at DESC, link_id DESC LIMIT ? OFFSET ?)"
    " AS hits JOIN links l ON l.id = hits.link_id"
    " WHERE l.deleted_at IS NULL ORDER BY hits.score DESC, hits.created_at DESC, l.id DESC")


def _fields(row: Any, tags: str) -> dict[str, str | None]:
    url, canonical = row["url"], row["canonical_url"]
    if canonical and canonical != url:
        url = f"{url} {canonical}"
    return {"title": row["title"], "tags": tags, "description": row["description"],
            "note": row["note"], "url": url}


async def reindex_links(tx: Connection, link_ids: Sequence[str]) -> None:
    """Bring the search index up to date with these links (a deleted link leaves it)."""
    if not link_ids:
        return
    ids = placeholders(len(link_ids))
    rows = await tx.fetchall(INDEX_SOURCE[tx.dialect].format(ids=ids), tuple(link_ids))
    tags = await tags_for(tx, [row["id"] for row in rows])
    for row in rows:
        names = " ".join(tag.name for tag in tags.get(row["id"], ()))
        fields = _fields(row, names)
        if tx.dialect == "sqlite":
            await tx.execute(SQLITE_UNINDEX, (row["rid"],))
            if row["deleted_at"] is None:
                await tx.execute(SQLITE_INDEX, (
                    row["rid"], f"u_{row['user_id']}",
                    *(textindex.fts5_document(fields[name]) for name in textindex.FIELDS)))
        elif row["deleted_at"] is None:
            await tx.execute(POSTGRES_INDEX, (row["id"], row["user_id"], row["created_at"],
                                              textindex.tsvector_literal(fields)))
        else:
            await tx.execute(POSTGRES_UNINDEX, (row["id"],))


async def search_links(conn: Connection, user_id: int, query: str, *, page: int = 1,
                       limit: int = 20) -> SearchPage:
    """The user's live links matching every term of ``query``, best first.

    Any text is accepted: terms are substrings (Korean inside longer words, two-character
    words, single syllables); query-syntax characters are just characters. Nothing searchable
    answers an empty page.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    offset = (max(1, page) - 1) * limit
    phrases = textindex.compile_query(query)
    if not phrases:
        return SearchPage(items=(), has_more=False)
    if conn.dialect == "sqlite":
        match = f"owner : u_{int(user_id)} AND " + textindex.fts5_match(phrases)
        rows = await conn.fetchall(SQLITE_SEARCH, (match, limit + 1, offset, user_id))
    else:
        await conn.execute(POSTGRES_CUSTOM_PLANS)
        rows = await conn.fetchall(POSTGRES_SEARCH, (textindex.tsquery_literal(phrases),
                                                     user_id, limit + 1, offset))
    items = await load_links(conn, rows[:limit])
    return SearchPage(items=tuple(items), has_more=len(rows) > limit)
