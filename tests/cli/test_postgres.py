"""The admin commands on the scale-out backends: PostgreSQL (a schema of its own, chosen in the
URL) and Redis mailboxes (a key prefix of its own)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import asyncpg
import pytest

from tests.cli.bookmarks import BROWSER_EXPORT, DUPLICATES, EXPECTED


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def postgres_env(cli_env: dict[str, str], postgres_dsn: str, redis_url: str,
                 redis_prefix: str) -> Iterator[dict[str, str]]:
    """Point the commands at a fresh schema (``?search_path=`` in the URL) and Redis."""
    schema = f"la_cli_{uuid.uuid4().hex[:10]}"
    anyio.run(_execute, postgres_dsn, f'CREATE SCHEMA "{schema}"')
    cli_env.update(LINKARCHIVE_DATABASE_URL=f"{postgres_dsn}?search_path={schema}",
                   LINKARCHIVE_REDIS_URL=redis_url, LINKARCHIVE_REDIS_PREFIX=redis_prefix,
                   LINKARCHIVE_SECRET_KEY="postgres-test-" + "k" * 50)
    try:
        yield cli_env
    finally:
        anyio.run(_execute, postgres_dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_admin_commands_on_postgres_and_redis(cli, cli_json, postgres_env,
                                              tmp_path: Path) -> None:
    assert cli("migrate").stdout.startswith("applied 2 migration(s)")
    cli("user", "add", "ana@example.com", "--password", "correct horse battery", "--admin")
    source = tmp_path / "bookmarks.html"
    source.write_text(BROWSER_EXPORT, encoding="utf-8")
    report = cli_json("import", str(source), "--user", "ana@example.com")
    assert (report["new"], report["duplicate"]) == (len(EXPECTED), DUPLICATES)
    saved = cli_json("link", "add", "https://phone.example.com/x", "-u", "ana@example.com")
    assert saved["created"] is True

    exported = json.loads(cli("export", "-u", "ana@example.com", "-f", "json").stdout)
    assert {item["url"] for item in exported} == set(EXPECTED) | {"https://phone.example.com/x"}
    listed = cli_json("link", "list", "-u", "ana@example.com", "--tag", "python")
    assert len(listed) == 2

    # Jobs go through the outbox; no server runs its relay here, so Redis has none yet.
    stats = cli_json("stats", "--no-metrics")
    assert stats["links"]["by_status"] == {"pending": len(EXPECTED) + 1}
    assert stats["queues"]["scrape"]["ready"] == 0
    assert stats["outbox"]["waiting"] == len(EXPECTED) + 1
    text = cli("stats", "--no-metrics").stdout
    assert f"Outbox (waiting for a server's relay to Redis): {len(EXPECTED) + 1}" in text
    assert cli_json("dlq", "list") == []
    checks = {c["name"]: c["status"] for c in json.loads(cli("doctor", "--json").stdout)}
    assert checks == {"settings": "ok", "database": "ok", "mailbox": "ok", "blob store": "ok",
                      "redis": "ok", "model": "ok"}
