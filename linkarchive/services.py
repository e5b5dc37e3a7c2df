"""The process's shared resources, opened in order and closed in reverse.

Embedded defaults need nothing installed or running; Redis and S3 are only imported when set.
"""

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
from linkarchive.engine.outbox import JobQueue
from linkarchive.errors import ConfigError
from linkarchive.http.events import EventBus, InProcessEventBus
from linkarchive.storage.blobs import BlobStore, open_blob_store
from linkarchive.storage.cache import Cache, open_cache
from linkarchive.storage.database import Database, open_database
from linkarchive.storage.locks import Locks, open_locks

__all__ = ["Services", "load_secret_key", "open_services"]

log = logging.getLogger("linkarchive")


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    secret_key: bytes
    database: Database
    mailbox: Mailbox
    jobs: JobQueue
    blobs: BlobStore
    cache: Cache
    events: EventBus
    locks: Locks
    rate_limiter: Any = None


def load_secret_key(settings: Settings) -> bytes:
    """The configured secret, or one generated once into the data directory (mode 0600)."""
    if settings.server.secret_key:
        return settings.server.secret_key.encode()
    path = Path(settings.storage.data_dir) / "secret_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


@asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    """Open the database (migrating it when asked), the mailbox and the rest."""
    try:
        await anyio.Path(settings.storage.data_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"LINKARCHIVE_DATA_DIR {settings.storage.data_dir} cannot be "
                          f"created: {exc.strerror}") from None
    secret = await anyio.to_thread.run_sync(load_secret_key, settings)
    redis_url = settings.storage.redis_url
    async with AsyncExitStack() as stack:
        database = open_database(settings.database_url)
        await stack.enter_async_context(database)
        if migrate:
            await database.migrate()
        mailbox = await stack.enter_async_context(open_mailbox(settings, database))
        blobs = await stack.enter_async_context(
            open_blob_store(settings, secret=secret, base_url=settings.server.public_url))
        cache = open_cache(settings)
        stack.push_async_callback(cache.aclose)
        locks = await stack.enter_async_context(open_locks(settings))
        rate_limiter = None
        if redis_url:
            from linkarchive.http.events import RedisEventBus
            from linkarchive.http.ratelimit import Rate, RedisRateLimiter

            events: EventBus = RedisEventBus.from_url(
                redis_url, prefix=settings.storage.redis_prefix)
            rate_limiter = RedisRateLimiter.from_url(
                redis_url, Rate(settings.server.rate_limit, 60.0),
                prefix=settings.storage.redis_prefix)
            stack.push_async_callback(rate_limiter.aclose)
        else:
            events = InProcessEventBus()
        await stack.enter_async_context(events)
        yield Services(settings=settings, secret_key=secret, database=database,
                       mailbox=mailbox, jobs=JobQueue(mailbox, database), blobs=blobs,
                       cache=cache, events=events, locks=locks, rate_limiter=rate_limiter)
