"""``linkarchive doctor``: check every backend this configuration uses and say what to fix.

Each check runs on its own under a short deadline, so one broken backend does not hide the
others. It migrates nothing, and a data directory or database that does not exist yet is
reported, not made.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import anyio
import typer

from linkarchive.commands.common import JsonOption, print_json, state
from linkarchive.commands.queues import QUEUES
from linkarchive.config import Settings, load_settings
from linkarchive.engine.mailbox import open_mailbox
from linkarchive.errors import LinkArchiveError
from linkarchive.storage.blobs import open_blob_store
from linkarchive.storage.cache import open_cache
from linkarchive.storage.database import Database, load_migrations, open_database
from linkarchive.storage.sqlite import sqlite_path_from_url

__all__ = ["doctor", "redact_url", "register"]

TIMEOUT = 5.0
STUCK_AFTER = 600.0
OPENAI_URL = "https://api.openai.com/v1"
_APPLIED = {"sqlite": "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'",
            "postgres": "SELECT to_regclass('schema_migrations') IS NOT NULL"}


@dataclass(frozen=True, kw_only=True)
class Check:
    name: str
    status: str  # ok, warn or fail
    detail: str
    fix: str = ""


def redact_url(url: str) -> str:
    """``url`` with any password replaced, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _pending_migrations(database: Database) -> list[str]:
    async with database.read() as conn:
        if not await conn.fetchval(_APPLIED[database.dialect]):
            done: set[str] = set()
        else:
            done = {row[0] for row in await conn.fetchall("SELECT version FROM schema_migrations")}
    return [name for name, _ in load_migrations(database.dialect) if name not in done]


async def _database(settings: Settings, stack: AsyncExitStack) -> tuple[Check, Database | None]:
    url = settings.database_url
    shown = redact_url(url)
    if url.startswith("sqlite:"):
        path = sqlite_path_from_url(url)
        if isinstance(path, Path) and not path.exists():
            return Check(name="database", status="warn", detail=f"{shown} does not exist yet",
                         fix="run `linkarchive migrate` (serve creates it too)"), None
    database = open_database(url)
    await stack.enter_async_context(database)
    await database.ping()
    pending = await _pending_migrations(database)
    if pending:
        return Check(name="database", status="warn", fix="run `linkarchive migrate`",
                     detail=f"{shown}: {len(pending)} migration(s) pending"), database
    return Check(name="database", status="ok", detail=f"{shown}: schema up to date"), database


async def _mailbox(settings: Settings, database: Database | None,
                   stack: AsyncExitStack) -> Check:
    if database is None and settings.mailbox_backend == "sqlite":
        return Check(name="mailbox", status="warn",
                     detail="sqlite: it lives in the database, which is not available yet")
    mailbox = await stack.enter_async_context(open_mailbox(settings, database))
    await mailbox.ping()
    stats = [await mailbox.stats(queue) for queue in QUEUES]
    dead = sum(s.dead for s in stats)
    stuck = [s.queue for s in stats if s.ready and s.oldest_age > STUCK_AFTER]
    detail = f"{settings.mailbox_backend}: " + ", ".join(f"{s.queue} {s.depth}" for s in stats)
    if stuck:
        return Check(name="mailbox", status="warn", detail=detail,
                     fix=f"messages on {', '.join(stuck)} wait over {STUCK_AFTER:.0f}s:"
                         " is a worker (`linkarchive serve` or `worker`) running?")
    if dead:
        return Check(name="mailbox", status="warn", detail=f"{detail}; {dead} dead letter(s)",
                     fix="see `linkarchive dlq list`")
    return Check(name="mailbox", status="ok", detail=detail)


async def _blobs(settings: Settings, stack: AsyncExitStack) -> Check:
    storage = settings.storage
    if not storage.s3_bucket and not storage.data_dir.exists():
        return Check(name="blob store", status="warn",
                     detail=f"{storage.data_dir} does not exist yet",
                     fix="it is created by `linkarchive serve` or `migrate`")
    store = open_blob_store(settings, secret=b"doctor", base_url=settings.server.public_url)
    await stack.enter_async_context(store)
    await store.ping()
    where = (f"s3 bucket {storage.s3_bucket}" if storage.s3_bucket
             else str(storage.data_dir / "blobs"))
    return Check(name="blob store", status="ok", detail=f"{where} is writable")


async def _cache(settings: Settings, stack: AsyncExitStack) -> Check:
    if not settings.storage.redis_url:
        return Check(name="redis", status="ok", detail="not configured: cache, rate limits and"
                                                       " events stay in-process")
    cache = open_cache(settings)
    stack.push_async_callback(cache.aclose)
    await cache.ping()
    return Check(name="redis", status="ok", detail=redact_url(settings.storage.redis_url))


async def _model(settings: Settings) -> Check:
    model = settings.model
    if not model.openai_api_key:
        return Check(name="model", status="ok",
                     detail="no API key: the built-in offline tagger tags links")
    base = (model.openai_base_url or OPENAI_URL).rstrip("/")
    headers = {"Authorization": f"Bearer {model.openai_api_key}"}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(f"{base}/models", headers=headers) as answer:
            status = answer.status
            body = await answer.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check(name="model", status="fail", detail=f"{base} cannot be reached: "
                     f"{exc or type(exc).__name__}", fix="check LINKARCHIVE_OPENAI_BASE_URL"
                     " and the network; until then links are tagged offline")
    if status in (401, 403):
        return Check(name="model", status="fail", detail=f"{base} refused the API key "
                     f"(HTTP {status})", fix="set a valid LINKARCHIVE_OPENAI_API_KEY")
    if status != 200:
        return Check(name="model", status="warn", detail=f"{base}/models answered HTTP {status}",
                     fix="check LINKARCHIVE_OPENAI_BASE_URL points at an OpenAI-compatible API")
    listed = body.get("data") if isinstance(body, dict) else None
    names = {item.get("id") for item in listed or () if isinstance(item, dict)}
    if model.openai_model not in names:
        return Check(name="model", status="warn",
                     detail=f"{base} does not list the model {model.openai_model!r}",
                     fix="set LINKARCHIVE_OPENAI_MODEL to one it serves")
    return Check(name="model", status="ok", detail=f"{base} serves {model.openai_model}")


async def _guarded(name: str, check: Callable[[], Awaitable[Check]]) -> Check:
    """Run one check; an error or a timeout becomes a failed check naming it."""
    try:
        with anyio.fail_after(TIMEOUT + 1):
            return await check()
    except TimeoutError:
        return Check(name=name, status="fail", detail=f"no answer within {TIMEOUT + 1:.0f}s",
                     fix="check that it is running and reachable")
    except (LinkArchiveError, OSError) as exc:
        return Check(name=name, status="fail", detail=str(exc),
                     fix="check the setting named above and that the service runs")


async def run_checks(settings: Settings) -> list[Check]:
    checks = [_settings_check(settings)]
    async with AsyncExitStack() as stack:
        database: Database | None = None

        async def database_check() -> Check:
            nonlocal database
            check, database = await _database(settings, stack)
            return check

        checks.append(await _guarded("database", database_check))
        checks.append(await _guarded("mailbox", lambda: _mailbox(settings, database, stack)))
        checks.append(await _guarded("blob store", lambda: _blobs(settings, stack)))
        checks.append(await _guarded("redis", lambda: _cache(settings, stack)))
        checks.append(await _guarded("model", lambda: _model(settings)))
    return checks


def _settings_check(settings: Settings) -> Check:
    source = state.config or os.environ.get("LINKARCHIVE_CONFIG") or "defaults and environment"
    if settings.storage.redis_url and not settings.server.secret_key:
        return Check(name="settings", status="warn", detail=f"from {source}",
                     fix="set LINKARCHIVE_SECRET_KEY: processes on other hosts must share it")
    return Check(name="settings", status="ok", detail=f"from {source}")


def _print(checks: list[Check]) -> None:
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    width = max(len(check.name) for check in checks)
    for check in checks:
        typer.echo(f"{marks[check.status]}  {check.name.ljust(width)}  {check.detail}")
        if check.fix:
            typer.echo(f"      {' ' * width}  fix: {check.fix}")


def doctor(as_json: JsonOption = False) -> None:
    """Check settings, database, mailbox, blob store, Redis and the model endpoint.

    Exits non-zero when something is broken, and says what to fix.

    Example: linkarchive doctor
    """
    try:
        settings = load_settings(state.config)
    except LinkArchiveError as exc:
        checks = [Check(name="settings", status="fail", detail=str(exc),
                        fix="correct the setting named above")]
    else:
        checks = anyio.run(run_checks, settings)
    if as_json:
        print_json([asdict(check) for check in checks])
    else:
        _print(checks)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
