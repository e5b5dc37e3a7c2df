"""SQLite through aiosqlite: one writer connection (``BEGIN IMMEDIATE``), a few readers, WAL.

One writer is the SQLite way: writers serialise anyway, and a single connection under an
anyio lock turns "database is locked" storms into an orderly queue inside the process.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosqlite
import anyio

from linkarchive.errors import ConfigError, Conflict, DatabaseUnavailable
from linkarchive.storage.database import Connection, Database, load_migrations

__all__ = ["SQLiteDatabase", "SQLiteConnection", "sqlite_path_from_url"]

log = logging.getLogger("linkarchive.storage.sqlite")

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)


def sqlite_path_from_url(url: str) -> Path | str:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or ``sqlite://:memory:``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigError(f"not a sqlite URL: {url!r}")
    if parts.netloc == ":memory:" or parts.path in ("/:memory:", ":memory:"):
        return ":memory:"
    raw = unquote(parts.path)
    if raw.startswith("/"):
        raw = raw[1:]
    if not raw:
        raise ConfigError(f"sqlite URL {url!r} names no file")
    return Path(raw)


# Result codes that mean "the file cannot be used right now", not "the SQL is wrong".
_UNAVAILABLE_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN",
                      "SQLITE_FULL", "SQLITE_NOMEM", "SQLITE_PROTOCOL", "SQLITE_READONLY")


@contextmanager
def wrap_errors() -> Any:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_CONSTRAINT_UNIQUE",
                                                    "SQLITE_CONSTRAINT_PRIMARYKEY"):
            raise Conflict(f"already exists: {exc}") from exc
        raise
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "").startswith(_UNAVAILABLE_CODES):
            raise DatabaseUnavailable(f"SQLite: {exc}") from exc
        raise


class SQLiteConnection(Connection):
    """A connection inside a transaction or a read; SQL uses ``?`` placeholders."""

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        super().__init__()
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with wrap_errors():
            cursor = await self._connection.execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with wrap_errors():
            await self._connection.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with wrap_errors():
            return list(await self._connection.execute_fetchall(sql, params))


class SQLiteDatabase(Database):
    """The embedded database; ``write()`` serialises writers, ``read()`` uses the readers."""

    dialect = "sqlite"

    def __init__(self, url: str, *, readers: int = 4) -> None:
        self.url = url
        self.path = sqlite_path_from_url(url)
        self._readers_wanted = 1 if self.path == ":memory:" else readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._free_readers: list[aiosqlite.Connection] = []
        self._reader_slots = anyio.Semaphore(max(1, self._readers_wanted))
        self._write_lock = anyio.Lock()

    async def _open(self) -> aiosqlite.Connection:
        target = str(self.path)
        connection = await aiosqlite.connect(target, isolation_level=None)
        connection.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def connect(self) -> None:
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._open()
            if self.path == ":memory:":
                self._readers = [self._writer]
            else:
                self._readers = [await self._open() for _ in range(self._readers_wanted)]
        except (sqlite3.Error, OSError) as exc:
            await self.aclose()
            raise DatabaseUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._free_readers = list(self._readers)

    async def aclose(self) -> None:
        connections = {id(c): c for c in [self._writer, *self._readers] if c is not None}
        self._writer, self._readers, self._free_readers = None, [], []
        for connection in connections.values():
            with anyio.CancelScope(shield=True):
                await connection.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SQLiteConnection]:
        """A write transaction: committed on success, rolled back on any error or cancel."""
        if self._writer is None:
            raise DatabaseUnavailable("the database is not open")
        async with self._write_lock:
            writer = self._writer
            with wrap_errors():
                await writer.execute("BEGIN IMMEDIATE")
            connection = SQLiteConnection(writer)
            try:
                yield connection
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await writer.rollback()
                raise
            with anyio.CancelScope(shield=True), wrap_errors():
                try:
                    await writer.commit()
                except BaseException:
                    # A failed COMMIT (disk full, I/O error) leaves the transaction open.
                    if writer.in_transaction:
                        await writer.rollback()
                    raise
            connection.committed()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SQLiteConnection]:
        """A read-only connection seeing a consistent snapshot for the block."""
        if not self._readers:
            raise DatabaseUnavailable("the database is not open")
        async with self._reader_slots:
            reader = self._free_readers.pop()
            try:
                if reader is self._writer:
                    yield SQLiteConnection(reader)
                else:
                    with wrap_errors():
                        await reader.execute("BEGIN")
                    try:
                        yield SQLiteConnection(reader)
                    finally:
                        with anyio.CancelScope(shield=True):
                            await reader.rollback()
            finally:
                self._free_readers.append(reader)

    async def migrate(self) -> list[str]:
        """Apply the packaged migrations not yet applied; answer their names."""
        applied: list[str] = []
        async with self.write() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            done = {row[0] for row in await tx.fetchall("SELECT version FROM schema_migrations")}
            for name, sql in load_migrations("sqlite"):
                if name in done:
                    continue
                for statement in _split_sql(sql):
                    await tx.execute(statement)
                await tx.execute("INSERT INTO schema_migrations VALUES (?, ?)",
                                 (name, time.time()))
                applied.append(name)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping ``BEGIN … END;`` trigger bodies whole."""
    statements, current = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("--")):
            continue
        current.append(line)
        if stripped.endswith(";") and sqlite3.complete_statement("\n".join(current)):
            statements.append("\n".join(current))
            current = []
    if current and "\n".join(current).strip():
        statements.append("\n".join(current))
    return statements
