"""Storage at scale: list and search latency with 100,000 links, on SQLite and PostgreSQL.

Run ``.venv/bin/python bench/storage.py [--links 100000]``; prints a markdown table and writes
it to ``bench/results/storage.md``. One user gets ``--links`` links (Korean and English text,
tags, thumbnails) and ten other users 2,000 each. Every figure goes through the repositories
(``list_links``, ``search_links``) inside ``db.read()``, tags and images included, as the API
calls them. SQLite uses a temporary file; PostgreSQL (``LINKARCHIVE_TEST_POSTGRES_DSN``, default
the local one) a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import asyncpg

from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from linkarchive.storage.postgres import PostgresDatabase
from linkarchive.storage.repositories import textindex
from linkarchive.storage.repositories.listing import encode_cursor
from linkarchive.storage.repositories.search import (
    SQLITE_INDEX,
    postgres_index_row,
    sqlite_index_row,
)
from linkarchive.storage.sqlite import SQLiteDatabase

POSTGRES_DSN = os.environ.get("LINKARCHIVE_TEST_POSTGRES_DSN",
                              "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(__file__).parent / "results" / "storage.md"
OTHER_USERS = 10
SEARCHES = {"English word": "python", "Korean substring": "김치찌개", "2-char Korean": "찌개"}
TAG = "여행"  # a mid-popularity tag (rank 10 of 300)


class Corpus:
    """Deterministic Korean/English text with Zipf-distributed words, syllables and tags."""

    REAL_KO = ["김치찌개", "된장찌개", "비빔밥", "여행", "제주도", "맛집", "카페", "리뷰", "요리",
               "개발", "파이썬", "데이터", "음악", "영화", "독서", "운동", "캠핑", "사진"]
    REAL_EN = ["react", "hooks", "python", "async", "database", "search", "tutorial", "review",
               "video", "music", "travel", "recipe", "design", "science", "camera", "coffee"]
    SUFFIXES = ["", "", "", "를", "을", "는", "은", "이", "가", "에서", "으로", "의", "도"]

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        syllables = [chr(0xAC00 + i) for i in self.rng.sample(range(11172), 350)]
        weights = list(itertools.accumulate(1 / (r + 5) for r in range(350)))
        korean: set[str] = set()
        while len(korean) < 6000:
            korean.add("".join(self.rng.choices(syllables, cum_weights=weights,
                                                k=self.rng.choice((2, 2, 3, 3, 4)))))
        english: set[str] = set()
        while len(english) < 6000:
            english.add("".join(self.rng.choice("bcdfghjklmnprstvwz") + self.rng.choice("aeiou")
                                for _ in range(self.rng.choice((2, 3, 3, 4)))))
        self.korean, self.english = sorted(korean), sorted(english)
        for rank, word in enumerate(self.REAL_KO):  # ranks 100-700 of 6000: common, not stop words
            self.korean.insert(100 + rank * 37, word)
        for rank, word in enumerate(self.REAL_EN):
            self.english.insert(100 + rank * 37, word)
        self.korean_weights = list(itertools.accumulate(1 / (r + 10)
                                                        for r in range(len(self.korean))))
        self.english_weights = self.korean_weights[:len(self.english)]
        self.tags = [TAG if n == 10 else f"tag{n}" if n % 2 else f"태그{n}" for n in range(300)]
        self.tag_weights = list(itertools.accumulate(1 / (r + 1) for r in range(300)))

    def words(self, count: int) -> str:
        """``count`` words, 60% Korean (with a particle now and then), 40% English."""
        rng = self.rng
        korean = rng.choices(self.korean, cum_weights=self.korean_weights, k=count)
        english = rng.choices(self.english, cum_weights=self.english_weights, k=count)
        return " ".join(ko + rng.choice(self.SUFFIXES) if rng.random() < 0.6 else en
                        for ko, en in zip(korean, english, strict=True))

    def link_tags(self) -> set[str]:
        return set(self.rng.choices(self.tags, cum_weights=self.tag_weights,
                                    k=self.rng.randint(1, 5)))


@dataclass
class Seed:
    users: list[tuple]
    links: list[tuple]
    tags: list[tuple]
    link_tags: list[tuple]
    images: list[tuple]
    search: list[tuple[dict, list[str]]]  # link fields as reindexing reads them, tag names


SYNC_CHANGES = 10_000
SYNC_PAGE = 500


def generate(main_links: int, other_links: int) -> Seed:
    corpus, now = Corpus(), time.time()
    seed = Seed([], [], [], [], [], [])
    tag_ids: dict[tuple[int, str], int] = {}
    counts = [main_links] + [other_links] * OTHER_USERS
    rid = 0
    for user_id, count in enumerate(counts, start=1):
        seed.users.append((user_id, f"user{user_id}@example.com", f"user{user_id}@example.com",
                           "hash", now, now, count))
        for n in range(count):
            rid += 1
            link_id, created = uuid.uuid4().hex, now - 86400 * 700 + n * (86400 * 700 / count)
            title, description = corpus.words(corpus.rng.randint(5, 10)), corpus.words(30)
            note = corpus.words(6) if corpus.rng.random() < 0.3 else None
            url = f"https://site{rid % 997}.example.com/post/{rid}"
            status = "failed" if rid % 31 == 0 else "completed"
            seed.links.append((link_id, user_id, url, uuid.uuid4().hex, title, description, note,
                               status, rid % 20 == 0, rid % 10 == 0, 4, created, created,
                               n + 1))
            names = corpus.link_tags()
            for name in sorted(names):
                tag_id = tag_ids.setdefault((user_id, name), len(tag_ids) + 1)
                seed.link_tags.append((link_id, tag_id, rid % 3 != 0, 0.8, created))
            if rid % 10 < 7:
                seed.images += [(link_id, variant, "thumbnails", f"thumbnails/{variant}/{rid}.jpg",
                                 size, size, size * 40, "ab" * 32, "image/jpeg", created)
                                for variant, size in (("small", 150), ("medium", 300),
                                                      ("large", 600))]
            seed.search.append(({"rid": rid, "id": link_id, "user_id": user_id,
                                 "created_at": created, "title": title, "description": description,
                                 "note": note, "url": url, "canonical_url": None}, sorted(names)))
    seed.tags = [(tag_id, user_id, name, "keyword", now)
                 for (user_id, name), tag_id in tag_ids.items()]
    return seed


LINK_COLUMNS = ("id", "user_id", "url", "url_hash", "title", "description", "note", "status",
                "favorite", "archived", "version", "created_at", "updated_at", "change_seq")
USER_COLUMNS = ("id", "email", "email_key", "password_hash", "created_at", "updated_at",
                "change_seq")
LINK_TAG_COLUMNS = ("link_id", "tag_id", "generated", "confidence", "created_at")
IMAGE_COLUMNS = ("link_id", "variant", "bucket", "object_key", "width", "height", "bytes",
                 "sha256", "content_type", "created_at")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


async def seed_sqlite(database: Database, seed: Seed) -> None:
    async with database.write() as tx:
        await tx.executemany(_insert("users", USER_COLUMNS), seed.users)
        await tx.executemany(_insert("links", ("rid", *LINK_COLUMNS)),
                             [(n, *row) for n, row in enumerate(seed.links, start=1)])
        await tx.executemany(_insert("tags", ("id", "user_id", "name", "kind", "created_at")),
                             seed.tags)
        await tx.executemany(_insert("link_tags", LINK_TAG_COLUMNS), seed.link_tags)
        await tx.executemany(_insert("stored_images", IMAGE_COLUMNS), seed.images)
        await tx.executemany(SQLITE_INDEX, [sqlite_index_row(*entry) for entry in seed.search])
        await tx.execute("ANALYZE")


async def seed_postgres(database: PostgresDatabase, seed: Seed) -> None:
    async with database.write() as tx:
        raw = tx.raw
        await raw.copy_records_to_table("users", records=seed.users, columns=USER_COLUMNS)
        await raw.copy_records_to_table("links", records=seed.links, columns=LINK_COLUMNS)
        await raw.copy_records_to_table("tags", records=seed.tags,
                                        columns=("id", "user_id", "name", "kind", "created_at"))
        # One count per tag afterwards instead of one trigger UPDATE per row.
        await raw.execute("ALTER TABLE link_tags DISABLE TRIGGER link_tags_count")
        await raw.copy_records_to_table("link_tags", records=seed.link_tags,
                                        columns=LINK_TAG_COLUMNS)
        await raw.execute("ALTER TABLE link_tags ENABLE TRIGGER link_tags_count")
        await raw.execute("UPDATE tags SET link_count ="
                          " (SELECT count(*) FROM link_tags WHERE tag_id = tags.id)")
        await raw.copy_records_to_table("stored_images", records=seed.images,
                                        columns=IMAGE_COLUMNS)
        # asyncpg cannot COPY a tsvector: stage the keys as text[], convert on the way in.
        await raw.execute("CREATE TEMP TABLE search_stage (LIKE link_search) ON COMMIT DROP")
        await raw.execute("ALTER TABLE search_stage ALTER COLUMN keys TYPE text[] USING NULL")
        await raw.copy_records_to_table("search_stage", records=[
            postgres_index_row(*entry) for entry in seed.search])
        await raw.execute("INSERT INTO link_search SELECT link_id, user_id, created_at, title,"
                          " tags, description, note, url, array_to_tsvector(keys)"
                          " FROM search_stage")
    connection = await asyncpg.connect(POSTGRES_DSN)
    try:  # VACUUM cannot run in a transaction; autovacuum would get there in production
        await connection.execute(f'SET search_path = "{database.schema}"')
        await connection.execute("VACUUM ANALYZE users, links, tags, link_tags, stored_images,"
                                 " link_search")
    finally:
        await connection.close()


async def timed(database: Database, call: Callable[[object], Awaitable[object]],
                repeat: int) -> tuple[float, float]:
    samples = []
    for attempt in range(repeat + repeat // 10):
        started = time.perf_counter()
        async with database.read() as conn:
            await call(conn)
        if attempt >= repeat // 10:  # the first tenth warms caches and is not counted
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


async def measure(database: Database, repeat: int,
                  searches: dict[str, tuple[str, int]]) -> dict[str, tuple[float, float]]:
    user_id, tagged = 1, repo.LinkFilter(tag=TAG)
    async with database.read() as conn:
        total = await repo.count_links(conn, user_id)
        with_tag = await repo.count_links(conn, user_id, filters=tagged)
        deep = await repo.list_links(conn, user_id, limit=1, page=int(total * 0.9))
        deep_tag = await repo.list_links(conn, user_id, filters=tagged, limit=1,
                                         page=int(with_tag * 0.9))
    cursor = encode_cursor(deep.items[0].created_at, deep.items[0].id)
    tag_cursor = encode_cursor(deep_tag.items[0].created_at, deep_tag.items[0].id)
    cases: dict[str, Callable] = {
        "list, first page": lambda c: repo.list_links(c, user_id),
        "list, deep keyset page (90%)": lambda c: repo.list_links(c, user_id, cursor=cursor),
        f"list by tag ({with_tag:,} links), first page":
            lambda c: repo.list_links(c, user_id, filters=tagged),
        "list by tag, deep keyset page (90%)":
            lambda c: repo.list_links(c, user_id, filters=tagged, cursor=tag_cursor),
    }
    for name, (query, hits) in searches.items():
        cases[f"search, {name} `{query}` ({hits:,} links)"] = \
            lambda c, query=query: repo.search_links(c, user_id, query)
    results = {name: await timed(database, call, repeat) for name, call in cases.items()}
    async with database.read() as conn:
        since = max(0, await repo.current_cursor(conn, user_id) - SYNC_CHANGES)

    async def pull_all(conn: object) -> None:
        cursor, pulled = since, 0
        while True:
            page = await repo.changes_since(conn, user_id, cursor, limit=SYNC_PAGE)
            pulled += len(page.links) + len(page.deleted)
            cursor = page.next_cursor
            if not page.has_more:
                break
        assert pulled == SYNC_CHANGES, pulled

    name = f"sync pull of {SYNC_CHANGES:,} changes, pages of {SYNC_PAGE} (whole pull)"
    results[name] = await timed(database, pull_all, max(5, repeat // 20))
    return results


def count_matches(seed: Seed, query: str) -> int:
    """How many of the main user's links contain ``query``, counted without any index."""
    term = textindex.compile_query(query)[0].text
    return sum(any(term in textindex.word_text(text) for text in
                   (link["title"], link["description"], link["note"], link["url"], *tags))
               for link, tags in seed.search if link["user_id"] == 1)


async def main(links: int, other_links: int, repeat: int) -> None:
    started = time.perf_counter()
    seed = generate(links, other_links)
    print(f"generated {len(seed.links):,} links in {time.perf_counter() - started:.1f}s")
    searches = {name: (query, count_matches(seed, query)) for name, query in SEARCHES.items()}
    results: dict[str, dict[str, tuple[float, float]]] = {}
    seconds: dict[str, float] = {}

    async def run(name: str, database: Database, seeder: Callable) -> None:
        await database.migrate()
        started = time.perf_counter()
        await seeder(database, seed)
        seconds[name] = time.perf_counter() - started
        results[name] = await measure(database, repeat, searches)

    with tempfile.TemporaryDirectory() as folder:
        async with SQLiteDatabase(f"sqlite:///{Path(folder) / 'bench.db'}") as database:
            await run("SQLite", database, seed_sqlite)
    schema = f"la_bench_{uuid.uuid4().hex[:10]}"
    try:
        async with PostgresDatabase(POSTGRES_DSN, schema=schema, max_size=2) as database:
            await run("PostgreSQL", database, seed_postgres)
    finally:
        connection = await asyncpg.connect(POSTGRES_DSN)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await connection.close()
    print(report(results, seconds, links, len(seed.links), repeat))


def report(results: dict[str, dict[str, tuple[float, float]]], seconds: dict[str, float],
           links: int, total: int, repeat: int) -> str:
    dialects = list(results)
    lines = [
        "# Storage: list and search latency",
        "",
        f"One user with {links:,} links, {total:,} links in all ({OTHER_USERS} other users);"
        f" {repeat} timed calls per row after warm-up, each through `db.read()` and the"
        " repository, 20 links per page with their tags and images."
        f" {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end),"
        f" Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}.",
        "",
        "| call | " + " | ".join(f"{d} p50 ms | {d} p99 ms" for d in dialects) + " |",
        "| --- | " + " | ".join("---: | ---:" for _ in dialects) + " |",
    ]
    for name in results[dialects[0]]:
        cells = " | ".join(f"{results[d][name][0]:.2f} | {results[d][name][1]:.2f}"
                           for d in dialects)
        lines.append(f"| {name} | {cells} |")
    lines += ["", "Seeding (bulk insert, full-text index, ANALYZE): " + ", ".join(
        f"{d} {s:.1f}s" for d, s in seconds.items()) + "."]
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--other-links", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=200)
    arguments = parser.parse_args()
    anyio.run(main, arguments.links, arguments.other_links, arguments.repeat)
