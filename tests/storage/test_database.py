"""The database contract on both dialects: transactions, errors, placeholders, the URL factory."""

from __future__ import annotations

import anyio
import pytest

from linkarchive.errors import ConfigError, Conflict, DatabaseUnavailable
from linkarchive.storage.database import Database, open_database
from linkarchive.storage.postgres import PostgresDatabase, to_dollar_placeholders
from linkarchive.storage.sqlite import SQLiteDatabase
from tests.conftest import free_port

pytestmark = pytest.mark.anyio


async def test_write_commits_and_read_sees_it(database: Database) -> None:
    async with database.write() as tx:
        assert await tx.execute("INSERT INTO outbox (queue, body, created_at) VALUES (?, ?, ?)",
                                ("q", '{"n": 1}', 1.5)) == 1
    async with database.read() as conn:
        row = await conn.fetchone("SELECT queue, body, created_at FROM outbox")
        assert (row["queue"], row[1], row["created_at"]) == ("q", '{"n": 1}', 1.5)
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE queue = ?", ("q",)) == 1
    await database.ping()


async def test_an_error_rolls_the_whole_transaction_back(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.write() as tx:
            await tx.execute("INSERT INTO outbox (queue, body, created_at) VALUES (?, ?, ?)",
                             ("q", "{}", 1.0))
            raise RuntimeError("boom")
    async with database.read() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_cancellation_rolls_back_and_the_database_stays_usable(database: Database) -> None:
    with anyio.move_on_after(0.2):
        async with database.write() as tx:
            await tx.execute("INSERT INTO outbox (queue, body, created_at) VALUES (?, ?, ?)",
                             ("q", "{}", 1.0))
            await anyio.sleep(5)
    async with database.write() as tx:
        assert await tx.fetchval("SELECT count(*) FROM outbox") == 0


async def test_after_commit_callbacks_run_only_after_a_commit(database: Database) -> None:
    calls: list[str] = []
    async with database.write() as tx:
        tx.after_commit(lambda: calls.append("first"))
        tx.after_commit(lambda: calls.append("second"))
        assert calls == []
    assert calls == ["first", "second"]
    with pytest.raises(RuntimeError):
        async with database.write() as tx:
            tx.after_commit(lambda: calls.append("rolled back"))
            raise RuntimeError("boom")
    assert calls == ["first", "second"]


async def test_unique_violation_is_a_conflict(database: Database) -> None:
    async with database.write() as tx:
        await tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", ("x", 1.0))
    with pytest.raises(Conflict):
        async with database.write() as tx:
            await tx.execute("INSERT INTO schema_migrations VALUES (?, ?)", ("x", 2.0))


async def test_executemany_and_text_with_question_marks(database: Database) -> None:
    async with database.write() as tx:
        await tx.executemany("INSERT INTO outbox (queue, body, created_at) VALUES (?, ?, ?)",
                             [("q?", "what? '?'", float(n)) for n in range(3)])
        rows = await tx.fetchall("SELECT body FROM outbox WHERE queue = 'q?' AND body LIKE ?",
                                 ("%?%",))
    assert [row["body"] for row in rows] == ["what? '?'"] * 3


async def test_a_bug_in_the_sql_is_not_reported_as_unavailable(database: Database) -> None:
    with pytest.raises(Exception) as caught:
        async with database.read() as conn:
            await conn.fetchall("SELECT * FROM no_such_table")
    assert not isinstance(caught.value, DatabaseUnavailable)


def test_placeholders_skip_literals_comments_and_dollar_quotes() -> None:
    sql = ("SELECT '?', \"a?\", 'it''s ?' -- why?\n, ? /* ? */, $$ ? $$, $x$?$x$ WHERE a = ?"
           " AND b IN (?, ?)")
    assert to_dollar_placeholders(sql) == (
        "SELECT '?', \"a?\", 'it''s ?' -- why?\n, $1 /* ? */, $$ ? $$, $x$?$x$ WHERE a = $2"
        " AND b IN ($3, $4)")


async def test_unreachable_postgres_is_unavailable_quickly() -> None:
    database = PostgresDatabase(f"postgresql://postgres@127.0.0.1:{free_port()}/test",
                                connect_timeout=2)
    with anyio.fail_after(10), pytest.raises(DatabaseUnavailable):
        await database.connect()
    with pytest.raises(DatabaseUnavailable):
        async with database.read():
            pass


def test_open_database_by_scheme(tmp_path) -> None:
    assert isinstance(open_database(f"sqlite:///{tmp_path}/a.db"), SQLiteDatabase)
    postgres = open_database("postgresql://u@localhost/db", schema="s1")
    assert isinstance(postgres, PostgresDatabase) and postgres.dialect == "postgres"
    assert isinstance(open_database("postgres://u@localhost/db"), PostgresDatabase)
    with pytest.raises(ConfigError):
        open_database("mysql://u@localhost/db")
    with pytest.raises(ConfigError):
        PostgresDatabase("postgresql://u@localhost/db", schema='x"; DROP TABLE users; --')
