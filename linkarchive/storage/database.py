"""The database contract shared by the SQLite and PostgreSQL backends, and the URL factory.

Repositories take a ``Connection`` from ``write()`` or ``read()`` and use the same SQL on both
where they can: ``?`` placeholders, ``RETURNING``, ``ON CONFLICT``, row values, epoch-second
timestamps. Rows answer both ``row["name"]`` and ``row[0]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from linkarchive.errors import ConfigError

__all__ = ["Connection", "Database", "load_migrations", "open_database"]


class Connection(ABC):
    """A connection inside a transaction or a read; SQL uses ``?`` placeholders.

    Driver errors surface as ``DatabaseUnavailable`` (cannot reach it, timed out, deadlock)
    and unique violations as ``Conflict``; anything else is a bug and propagates unchanged.
    """

    dialect: str

    def __init__(self) -> None:
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this transaction has committed; never if it rolls back."""
        self._after_commit.append(callback)

    def committed(self) -> None:
        """The database calls this after a successful commit."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; answer the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of a query."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database(ABC):
    """A database the application keeps its state in. What callers may rely on:

    - ``write()`` is one transaction: committed when the block ends normally, rolled back on
      any exception or cancellation. Writers are serialised per row they lock; a repository
      that changes a user's links locks that user's row first, so their commits are ordered.
    - ``read()`` sees one consistent snapshot for the whole block and must not write.
    - ``migrate()`` applies the packaged migrations not yet applied, is safe to run again and
      from several processes at once, and answers the names it applied.
    - Every call raises ``DatabaseUnavailable`` rather than hang when the database is away.
    """

    dialect: str
    url: str

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; raise ``DatabaseUnavailable`` when the database is away."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close every connection; safe to call twice."""

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A read-only snapshot."""

    @abstractmethod
    async def migrate(self) -> list[str]:
        """Apply pending migrations; answer their names."""

    async def ping(self) -> None:
        """Raise ``DatabaseUnavailable`` unless a trivial query answers."""
        async with self.read() as connection:
            await connection.fetchval("SELECT 1")

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def load_migrations(dialect: str) -> list[tuple[str, str]]:
    """The packaged ``NNNN_name.sql`` migrations of one dialect, in order, as (name, SQL)."""
    folder = resources.files("linkarchive.storage") / "migrations" / dialect
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def open_database(url: str, **options: Any) -> Database:
    """The database a URL names (``sqlite:///…`` or ``postgresql://…``), not yet connected.

    Drivers are imported here, lazily, so the embedded default never loads asyncpg.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from linkarchive.storage.sqlite import SQLiteDatabase

        return SQLiteDatabase(url, **options)
    if scheme in ("postgresql", "postgres"):
        from linkarchive.storage.postgres import PostgresDatabase

        return PostgresDatabase(url, **options)
    raise ConfigError(f"unsupported database URL scheme {scheme!r}; "
                      "use sqlite:///path or postgresql://…")
