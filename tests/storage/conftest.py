"""The ``database`` fixture: every repository test runs on a SQLite file and on real PostgreSQL.

PostgreSQL tests get a freshly migrated schema of their own, dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import asyncpg
import pytest

from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from linkarchive.storage.postgres import PostgresDatabase
from linkarchive.storage.sqlite import SQLiteDatabase

MakeUser = Callable[..., Awaitable[repo.User]]


async def drop_schema(dsn: str, schema: str) -> None:
    with anyio.fail_after(30):
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    """A migrated, empty database of each dialect."""
    if request.param == "sqlite":
        async with SQLiteDatabase(f"sqlite:///{tmp_path / 'test.db'}") as database:
            await database.migrate()
            yield database
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"la_test_{uuid.uuid4().hex[:12]}"
    try:
        async with PostgresDatabase(dsn, schema=schema, max_size=12) as database:
            await database.migrate()
            yield database
    finally:
        await drop_schema(dsn, schema)


@pytest.fixture
def make_user(database: Database) -> MakeUser:
    """Create an account (a fresh address unless one is given)."""

    async def make(email: str | None = None) -> repo.User:
        async with database.write() as tx:
            return await repo.create_user(tx, email or f"{uuid.uuid4().hex[:8]}@example.com",
                                          "argon2-hash")

    return make


@pytest.fixture
async def user(make_user: MakeUser) -> repo.User:
    return await make_user()
