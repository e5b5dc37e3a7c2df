"""The engine as a real subprocess: SIGKILL mid-work loses nothing, and a Redis outage is
ridden out with backoff. Each effect is applied exactly once by an idempotent actor."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from linkarchive.config import load_settings
from linkarchive.engine.mailbox import open_mailbox
from linkarchive.storage.sqlite import SQLiteDatabase
from tests.conftest import ROOT, process_env, wait_until
from tests.engine.tcp_proxy import TCPProxy

N = 300
SCRIPT = Path(__file__).with_name("engine_process.py")


def engine_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return process_env(LINKARCHIVE_DATA_DIR=str(tmp_path / "data"),
                       LINKARCHIVE_VISIBILITY_TIMEOUT="2", LINKARCHIVE_SHUTDOWN_GRACE="5",
                       ENGINE_TEST_EFFECTS=str(tmp_path / "effects.db"), **extra)


def start_engine(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, str(SCRIPT)], env=env, cwd=ROOT,
                                stdout=output, stderr=subprocess.STDOUT)


def effects(tmp_path: Path) -> tuple[int, int, int]:
    path = tmp_path / "effects.db"
    if not path.exists():
        return 0, 0, 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            applied = db.execute("SELECT count(*) FROM applied").fetchone()[0]
            calls = db.execute("SELECT count(*) FROM calls").fetchone()[0]
            row = db.execute("SELECT sum FROM total").fetchone()
        except sqlite3.OperationalError:  # the engine is still creating its tables
            return 0, 0, 0
    return applied, calls, row[0] if row else 0


async def send_work(env: dict[str, str]) -> None:
    settings = load_settings(environ=env)
    async with SQLiteDatabase(settings.database_url) as database:
        await database.migrate()
        async with open_mailbox(settings, database) as mailbox:
            for n in range(1, N + 1):
                await mailbox.send("work", {"n": n})


async def queue_depth(env: dict[str, str]) -> tuple[int, int]:
    settings = load_settings(environ=env)
    async with SQLiteDatabase(settings.database_url) as database:
        async with open_mailbox(settings, database) as mailbox:
            stats = await mailbox.stats("work")
    return stats.depth, stats.dead


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


@pytest.fixture(params=["sqlite", "redis"])
def engine_env_for(request, tmp_path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield engine_env(tmp_path)
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        yield engine_env(tmp_path, LINKARCHIVE_REDIS_URL=url, LINKARCHIVE_REDIS_PREFIX=prefix)


def test_sigkill_mid_work_then_restart_loses_nothing(engine_env_for, tmp_path) -> None:
    env = engine_env_for
    anyio.run(send_work, env)
    log = tmp_path / "engine.log"
    first = start_engine(env, log)
    try:
        wait_until(lambda: effects(tmp_path)[0] >= 60, timeout=60, what="first effects")
    finally:
        first.kill()
        first.wait(timeout=10)
    applied_at_kill = effects(tmp_path)[0]
    assert applied_at_kill < N, "the kill must land mid-work"

    second = start_engine(env, log)
    try:
        wait_until(lambda: effects(tmp_path)[0] == N, timeout=120, what="all effects")
        wait_until(lambda: anyio.run(queue_depth, env)[0] == 0, timeout=30, what="empty queue")
    finally:
        code = stop(second)
    applied, calls, total = effects(tmp_path)
    assert applied == N
    assert total == N * (N + 1) // 2  # every effect exactly once
    assert calls >= N
    assert anyio.run(queue_depth, env) == (0, 0)  # nothing left, nothing dead-lettered
    assert code == 0, log.read_text()[-3000:]


def test_redis_outage_is_ridden_out(redis_url, redis_prefix, tmp_path) -> None:
    with TCPProxy("127.0.0.1", 6379) as proxy:
        env = engine_env(tmp_path, LINKARCHIVE_REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0",
                         LINKARCHIVE_REDIS_PREFIX=redis_prefix, ENGINE_TEST_DELAY="0.03")
        anyio.run(send_work, env)
        log = tmp_path / "engine.log"
        process = start_engine(env, log)
        try:
            wait_until(lambda: effects(tmp_path)[0] >= 40, timeout=60, what="first effects")
            proxy.cut()  # Redis goes away: connections dropped, new ones refused
            before = effects(tmp_path)[0]
            anyio.run(anyio.sleep, 4)
            assert process.poll() is None, "the engine must not exit during the outage"
            assert effects(tmp_path)[0] - before <= 8, "no new work may start without Redis"
            proxy.restore()
            wait_until(lambda: effects(tmp_path)[0] == N, timeout=120, what="all effects")
            wait_until(lambda: anyio.run(queue_depth, env)[0] == 0, timeout=30,
                       what="empty queue")
        finally:
            code = stop(process)
        applied, _, total = effects(tmp_path)
        assert (applied, total) == (N, N * (N + 1) // 2)
        output = log.read_text()
        assert "mailbox unavailable" in output
        assert output.count("engine started") == 1, "no crash loop: started once"
        assert code == 0, output[-3000:]
