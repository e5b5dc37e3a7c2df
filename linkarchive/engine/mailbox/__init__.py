"""Durable mailboxes: the contract and its backends, chosen from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkarchive.engine.mailbox.base import (
    DeadLetter,
    Envelope,
    Mailbox,
    QueueStats,
    Retry,
    backoff_delay,
)
from linkarchive.errors import ConfigError

if TYPE_CHECKING:
    from linkarchive.config import Settings

__all__ = [
    "DeadLetter",
    "Envelope",
    "Mailbox",
    "QueueStats",
    "Retry",
    "backoff_delay",
    "open_mailbox",
]


def open_mailbox(settings: Settings, database: Any) -> Mailbox:
    """The configured mailbox; backends are imported lazily so SQLite never loads redis."""
    options = {"visibility_timeout": settings.engine.visibility_timeout,
               "max_deliveries": settings.engine.max_deliveries}
    backend = settings.mailbox_backend
    if backend == "redis":
        if not settings.storage.redis_url:
            raise ConfigError("LINKARCHIVE_MAILBOX=redis needs LINKARCHIVE_REDIS_URL")
        from linkarchive.engine.mailbox.redis import RedisMailbox

        return RedisMailbox.from_url(settings.storage.redis_url,
                                     prefix=settings.storage.redis_prefix, **options)
    if backend == "memory":
        from linkarchive.engine.mailbox.memory import MemoryMailbox

        return MemoryMailbox(**options)
    if getattr(database, "dialect", None) != "sqlite":
        raise ConfigError("the sqlite mailbox lives in the SQLite database; with PostgreSQL "
                          "set LINKARCHIVE_REDIS_URL so mailboxes use Redis")
    from linkarchive.engine.mailbox.sqlite import SQLiteMailbox

    return SQLiteMailbox(database, **options)
