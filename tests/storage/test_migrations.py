"""A fresh migrate gives exactly the expected schema on both dialects, and migrating is idempotent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest

from linkarchive.storage.database import Database
from linkarchive.storage.postgres import PostgresDatabase
from linkarchive.storage.sqlite import SQLiteDatabase
from tests.storage.conftest import drop_schema

pytestmark = pytest.mark.anyio

SHARED_TABLES = {
    "schema_migrations": "version applied_at",
    "outbox": "id queue body msg_key priority created_at",
    "users": "id email email_key password_hash is_admin disabled created_at updated_at change_seq",
    "sessions": "id user_id created_at revoked_at revoke_reason",
    "refresh_tokens": "token_hash session_id created_at expires_at used_at replaced_by",
    "links": "id user_id url url_hash canonical_url title title_edited description author"
             " site_name lang published_at kind image_url favicon_url mood difficulty note source"
             " favorite archived status processing_error retry_count version created_at"
             " updated_at deleted_at change_seq",
    "tags": "id user_id name kind link_count created_at",
    "link_tags": "link_id tag_id generated confidence created_at",
    "stored_images": "link_id variant bucket object_key width height bytes sha256 content_type"
                     " created_at",
    "link_stages": "link_id run stage finished_at",
    "applied_changes": "user_id change_id result applied_at",
}
SQLITE_ONLY = {
    "mailbox": "id queue body msg_key priority attempts enqueued_at available_at receipt"
               " last_error",
    "mailbox_dead": "id queue body msg_key attempts reason failed_at",
    "link_search": "owner title tags description note url",
}
POSTGRES_ONLY = {"link_search": "link_id user_id created_at title tags description note url keys"}
LINK_INDEXES = {"links_user_url", "links_user_recent", "links_user_status", "links_user_favorite",
                "links_user_archived", "links_user_changes"}

COLUMNS = {
    "sqlite": "SELECT name FROM pragma_table_info(?)",
    "postgres": "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
}
TABLES = {
    # FTS5 keeps its data in shadow tables named after the virtual one.
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'"
              " AND name NOT LIKE 'link_search_%'",
    "postgres": "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()",
}
INDEXES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
              " AND name NOT LIKE 'sqlite_autoindex%'",
    "postgres": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ? AND indexname <> 'links_pkey'",
}


async def test_fresh_migrate_gives_the_expected_schema(database: Database) -> None:
    expected = SHARED_TABLES | (SQLITE_ONLY if database.dialect == "sqlite" else POSTGRES_ONLY)
    async with database.read() as conn:
        tables = {row[0] for row in await conn.fetchall(TABLES[database.dialect])}
        assert tables == set(expected)
        for table, columns in expected.items():
            found = [row[0] for row in await conn.fetchall(COLUMNS[database.dialect], (table,))]
            if table == "links" and database.dialect == "sqlite":
                assert found[0] == "rid"  # the full-text index's integer key
                found = found[1:]
            assert found == columns.split(), table
        indexes = {row[0] for row in await conn.fetchall(INDEXES[database.dialect], ("links",))}
        assert indexes == LINK_INDEXES


async def test_migrate_again_applies_nothing_and_keeps_data(database: Database) -> None:
    async with database.write() as tx:
        await tx.execute("INSERT INTO outbox (queue, body, created_at) VALUES (?, ?, ?)",
                         ("q", "{}", 1.0))
    assert await database.migrate() == []
    async with database.read() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
        versions = [row[0] for row in await conn.fetchall(
            "SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[-1] == "0002_core"


@pytest.fixture(params=["sqlite", "postgres"])
async def twins(request: pytest.FixtureRequest,
                tmp_path) -> AsyncIterator[tuple[Database, Database]]:
    """Two unmigrated databases over the same file or schema, as two processes would have."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'twins.db'}"
        async with SQLiteDatabase(url) as first, SQLiteDatabase(url) as second:
            yield first, second
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"la_test_{uuid.uuid4().hex[:12]}"
    try:
        async with PostgresDatabase(dsn, schema=schema) as first, \
                PostgresDatabase(dsn, schema=schema) as second:
            yield first, second
    finally:
        await drop_schema(dsn, schema)


async def test_concurrent_migrators_apply_each_migration_once(
        twins: tuple[Database, Database]) -> None:
    results: list[list[str]] = []

    async def migrate(database: Database) -> None:
        results.append(await database.migrate())

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for database in twins:
                tg.start_soon(migrate, database)
    applied = sorted(name for result in results for name in result)
    assert applied[-1] == "0002_core" and len(applied) == len(set(applied))
    assert [] in results
