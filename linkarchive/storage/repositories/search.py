"""Full-text search over title, tags, description, note and URL, scoped to one user.

Both dialects index the character-bigram keys of ``textindex`` and find the same links.
SQLite keeps them in FTS5, which matches each term as a phrase inside the index and ranks by
BM25 with per-field weights. PostgreSQL keeps the keys as a GIN-indexed ``tsvector``, which
narrows the search to rows holding every key; each term is then looked up (``strpos``) in the
row's word text, which both decides the match and scores it by the fields it is in, with the
same weights. The user's text only ever becomes quoted letter-and-digit tokens or a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from linkarchive.storage.database import Connection
from linkarchive.storage.repositories import textindex
from linkarchive.storage.repositories.loading import load_links
from linkarchive.storage.repositories.rows import SearchPage, placeholders
from linkarchive.storage.repositories.tags import tags_for

__all__ = ["postgres_index_row", "reindex_links", "search_links", "sqlite_index_row"]

MAX_LIMIT = 100
# Field weights, best first; SQLite's BM25 gets the same ones (owner column first, weight 0).
WEIGHTS = dict(zip(textindex.FIELDS, (8, 5, 2, 2, 1), strict=True))

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
POSTGRES_INDEX = (
    "INSERT INTO link_search (link_id, user_id, created_at, title, tags, description, note, url,"
    " keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, array_to_tsvector(CAST(? AS text[])))"
    " ON CONFLICT (link_id) DO UPDATE SET title = excluded.title, tags = excluded.tags,"
    " description = excluded.description, note = excluded.note, url = excluded.url,"
    " keys = excluded.keys")
# Lower BM25 scores are better.
SQLITE_SEARCH = (
    "SELECT l.* FROM (SELECT rowid AS rid, bm25(link_search, 0, {weights}) AS score"
    "  FROM link_search WHERE link_search MATCH ? ORDER BY score, rowid DESC LIMIT ? OFFSET ?)"
    " AS hits JOIN links l ON l.rid = hits.rid"
    " WHERE l.user_id = ? AND l.deleted_at IS NULL ORDER BY hits.score, hits.rid DESC"
).format(weights=", ".join(str(weight) for weight in WEIGHTS.values()))
# A tsquery parameter defeats a generic plan (it cannot know how selective the query is), so
# the search runs with custom plans only.
POSTGRES_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
# One score column per term ({scores}: t0, t1, …), each the sum of the weights of the fields the
# term occurs in; a row matches when every term scored. OFFSET 0 keeps the inner query whole,
# so each score is computed once per row rather than again in WHERE and ORDER BY.
POSTGRES_SEARCH = (
    "SELECT l.* FROM (SELECT link_id, created_at, {total} AS score FROM"
    "  (SELECT link_id, created_at, {scores} FROM link_search"
    "   WHERE user_id = ? AND keys @@ CAST(? AS tsquery) OFFSET 0) AS candidates"
    "  WHERE {found} ORDER BY score DESC, created_at DESC, link_id DESC LIMIT ? OFFSET ?)"
    " AS hits JOIN links l ON l.id = hits.link_id"
    " WHERE l.deleted_at IS NULL ORDER BY hits.score DESC, hits.created_at DESC, l.id DESC")
TERM_SCORE = " + ".join(f"CASE WHEN strpos({field}, ?) > 0 THEN {weight} ELSE 0 END"
                        for field, weight in WEIGHTS.items())


@lru_cache(maxsize=textindex.MAX_TERMS)
def postgres_search_sql(terms: int) -> str:
    """The PostgreSQL search for ``terms`` terms, each given once per field."""
    names = [f"t{n}" for n in range(terms)]
    return POSTGRES_SEARCH.format(
        total=" + ".join(names), found=" AND ".join(f"{name} > 0" for name in names),
        scores=", ".join(f"({TERM_SCORE}) AS {name}" for name in names))


def _fields(row: Any, tags: Sequence[str]) -> dict[str, str | None]:
    url, canonical = row["url"], row["canonical_url"]
    if canonical and canonical != url:
        url = f"{url} {canonical}"
    return {"title": row["title"], "tags": " ".join(tags), "description": row["description"],
            "note": row["note"], "url": url}


def sqlite_index_row(row: Any, tags: Sequence[str]) -> tuple[Any, ...]:
    """Parameters of ``SQLITE_INDEX`` for a link row (with ``rid``) and its tag names."""
    fields = _fields(row, tags)
    documents = [textindex.fts5_document(fields[name]) if name != "tags"
                 # "__" is a token no phrase holds, so no phrase runs from one tag into the next.
                 else " __ ".join(textindex.fts5_document(tag) for tag in tags)
                 for name in textindex.FIELDS]
    return (row["rid"], f"u_{row['user_id']}", *documents)


def postgres_index_row(row: Any, tags: Sequence[str]) -> tuple[Any, ...]:
    """Parameters of ``POSTGRES_INDEX`` for a link row and its tag names."""
    fields = _fields(row, tags)
    texts = [textindex.word_text(fields[name]) if name != "tags"
             # A newline never occurs in a term, so no term matches across two tags.
             else "\n".join(textindex.word_text(tag) for tag in tags)
             for name in textindex.FIELDS]
    return (row["id"], row["user_id"], row["created_at"], *texts,
            textindex.index_keys(fields.values()))


async def reindex_links(tx: Connection, link_ids: Sequence[str]) -> None:
    """Bring the search index up to date with these links (a deleted link leaves it)."""
    if not link_ids:
        return
    ids = placeholders(len(link_ids))
    rows = await tx.fetchall(INDEX_SOURCE[tx.dialect].format(ids=ids), tuple(link_ids))
    tags = await tags_for(tx, [row["id"] for row in rows])
    for row in rows:
        names = [tag.name for tag in tags.get(row["id"], ())]
        if tx.dialect == "sqlite":
            await tx.execute(SQLITE_UNINDEX, (row["rid"],))
            if row["deleted_at"] is None:
                await tx.execute(SQLITE_INDEX, sqlite_index_row(row, names))
        elif row["deleted_at"] is None:
            await tx.execute(POSTGRES_INDEX, postgres_index_row(row, names))
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
        texts = [phrase.text for phrase in phrases for _ in WEIGHTS]
        await conn.execute(POSTGRES_CUSTOM_PLANS)
        rows = await conn.fetchall(postgres_search_sql(len(phrases)), (
            *texts, user_id, textindex.tsquery_literal(phrases), limit + 1, offset))
    items = await load_links(conn, rows[:limit])
    return SearchPage(items=tuple(items), has_more=len(rows) > limit)
