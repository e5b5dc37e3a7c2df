"""The process's shared resources, opened in order and closed in reverse."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from linkarchive.config import Settings
from linkarchive.engine.mailbox import Mailbox, open_mailbox
from linkarchive.errors import ConfigError

__all__ = ["Services", "load_secret_key", "open_services"]

log = logging.getLogger("linkarchive")


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    secret_key: bytes
    database: Any
    mailbox: Mailbox


def load_secret_key(settings: Settings) -> bytes:
    """The configured secret, or one generated once into the data directory (mode 0600)."""
    if settings.server.secret_key:
        return settings.server.secret_key.encode()
    path = Path(settings.storage.data_dir) / "secret_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def open_database(settings: Settings) -> Any:
    url = settings.database_url
    if url.startswith("sqlite:"):
        from linkarchive.storage.sqlite import SQLiteDatabase

        return SQLiteDatabase(url)
    raise ConfigError(f"LINKARCHIVE_DATABASE_URL: unsupported database {url!r}")


@asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """Open the database (migrating it when asked), the mailbox and the rest."""
    try:
        await anyio.Path(settings.storage.data_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"LINKARCHIVE_DATA_DIR {settings.storage.data_dir} cannot be "
                          f"created: {exc.strerror}") from None
    async with AsyncExitStack() as stack:
        database = open_database(settings)
        await database.connect()
        stack.push_async_callback(database.aclose)
        if migrate:
            await database.migrate()
        mailbox = open_mailbox(settings, database)
        stack.push_async_callback(mailbox.aclose)
        yield Services(settings=settings, secret_key=load_secret_key(settings),
                       database=database, mailbox=mailbox)
