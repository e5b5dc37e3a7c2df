"""PostgreSQL through an asyncpg pool, with the same API and ``?`` SQL as the SQLite database.

Placeholders are translated to ``$1..$n`` once per statement text (cached); asyncpg then keeps
a prepared statement per connection. Writes run at READ COMMITTED, reads in a read-only
REPEATABLE READ transaction so a block sees one snapshot, as on SQLite.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

import anyio
import asyncpg

from linkarchive.errors import ConfigError, Conflict, DatabaseUnavailable
from linkarchive.storage.database import Connection, Database, load_migrations

__all__ = ["PostgresConnection", "PostgresDatabase", "to_dollar_placeholders"]

log = logging.getLogger("linkarchive.storage.postgres")

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Cannot reach the server, it is shutting down or out of resources, a statement timed out,
# or a deadlock/serialisation failure: all worth retrying later, none a bug in the SQL.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
)


@lru_cache(maxsize=1024)
def to_dollar_placeholders(sql: str) -> str:
    """``?`` → ``$1..$n`` outside string literals, quoted names, comments and dollar quotes."""
    out: list[str] = []
    index, count, length = 0, 0, len(sql)
    while index < length:
        char = sql[index]
        end = index + 1
        if char in "'\"":
            end = sql.find(char, index + 1)
            while end != -1 and sql.startswith(char, end + 1):  # doubled quote is an escape
                end = sql.find(char, end + 2)
            end = length if end == -1 else end + 1
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            end = length if end == -1 else end
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)
            end = length if end == -1 else end + 2
        elif char == "$" and (tag := re.match(r"\$[A-Za-z_]*\$", sql[index:])):
            end = sql.find(tag.group(), index + len(tag.group()))
            end = length if end == -1 else end + len(tag.group())
        elif char == "?":
            count += 1
            out.append(f"${count}")
            index += 1
            continue
        out.append(sql[index:end])
        index = end
    return "".join(out)


def _rowcount(status: str) -> int:
    """Rows touched, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


@contextmanager
def wrap_errors() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"already exists: {exc.detail or exc}") from exc
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc


class PostgresConnection(Connection):
    """A pooled connection inside a transaction; SQL uses ``?`` placeholders."""

    dialect = "postgres"

    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__()
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with wrap_errors():
            if params:
                status = await self._connection.execute(to_dollar_placeholders(sql), *params)
            else:  # the simple protocol, which also runs multi-statement scripts
                status = await self._connection.execute(sql)
        return _rowcount(status)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with wrap_errors():
            await self._connection.executemany(to_dollar_placeholders(sql), rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        with wrap_errors():
            return await self._connection.fetch(to_dollar_placeholders(sql), *params)

    @property
    def raw(self) -> asyncpg.Connection:
        """The asyncpg connection, for bulk paths such as ``copy_records_to_table``."""
        return self._connection


class PostgresDatabase(Database):
    """PostgreSQL; ``schema`` puts every table in a schema of its own (tests use one each)."""

    dialect = "postgres"

    def __init__(self, url: str, *, schema: str | None = None, min_size: int = 1,
                 max_size: int = 10, command_timeout: float = 30.0,
                 connect_timeout: float = 10.0, acquire_timeout: float = 10.0) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigError(f"not a plain lowercase schema name: {schema!r}")
        self.url = url
        self.schema = schema
        self._pool_options = {"min_size": min_size, "max_size": max_size,
                              "command_timeout": command_timeout, "timeout": connect_timeout}
        self._acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None

    def _server_settings(self) -> dict[str, str]:
        settings = {"application_name": "linkarchive", "timezone": "UTC",
                    # JIT compiles in the tens of milliseconds: a loss for short queries.
                    "jit": "off"}
        if self.schema:
            settings["search_path"] = f'"{self.schema}"'
        return settings

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(self.url, server_settings=self._server_settings(),
                                                   **self._pool_options)
        except (*_UNAVAILABLE, asyncpg.PostgresError) as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(10) as scope:
                await pool.close()
            if scope.cancelled_caught:  # a connection was never given back: stop waiting
                pool.terminate()

    @asynccontextmanager
    async def _transaction(self, **options: Any) -> AsyncIterator[PostgresConnection]:
        if self._pool is None:
            raise DatabaseUnavailable("the database is not open")
        pool = self._pool
        with wrap_errors():
            connection = await pool.acquire(timeout=self._acquire_timeout)
        try:
            transaction = connection.transaction(**options)
            with wrap_errors():
                await transaction.start()
            wrapped = PostgresConnection(connection)
            try:
                yield wrapped
            except BaseException:
                with anyio.CancelScope(shield=True), wrap_errors():
                    await transaction.rollback()
                raise
            with anyio.CancelScope(shield=True), wrap_errors():
                await transaction.commit()
            wrapped.committed()
        finally:
            with anyio.CancelScope(shield=True):
                await pool.release(connection)

    def write(self) -> AbstractAsyncContextManager[PostgresConnection]:
        """A READ COMMITTED transaction: committed on success, rolled back on error or cancel."""
        return self._transaction()

    def read(self) -> AbstractAsyncContextManager[PostgresConnection]:
        """A read-only REPEATABLE READ transaction: one snapshot for the whole block."""
        return self._transaction(isolation="repeatable_read", readonly=True)

    async def migrate(self) -> list[str]:
        """Apply the packaged migrations not yet applied; answer their names."""
        applied: list[str] = []
        async with self.write() as tx:
            # Concurrent migrators (several processes starting at once) take turns.
            await tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                             (f"linkarchive.migrate:{self.schema or ''}",))
            if self.schema:
                await tx.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            done = {row[0] for row in await tx.fetchall("SELECT version FROM schema_migrations")}
            for name, sql in load_migrations("postgres"):
                if name in done:
                    continue
                await tx.execute(sql)
                await tx.execute("INSERT INTO schema_migrations VALUES (?, ?)",
                                 (name, time.time()))
                applied.append(name)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied
