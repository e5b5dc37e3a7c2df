"""``linkarchive worker`` as a real process: SIGKILL mid-pipeline, restart, and every link
completes once — on the embedded setup and on the scale-out one (PostgreSQL, Redis, S3)."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from linkarchive.config import load_settings
from linkarchive.links.save import save_link
from linkarchive.services import open_services
from linkarchive.storage.repositories.links import get_link
from linkarchive.storage.repositories.users import create_user, find_user_by_email
from tests.conftest import ROOT, free_port, process_env, wait_until
from tests.pipeline.site import Site, SiteThread

N = 60


def base_env(tmp_path: Path) -> dict[str, str]:
    return process_env(
        LINKARCHIVE_DATA_DIR=str(tmp_path / "data"),
        LINKARCHIVE_FETCH_ALLOW_HOSTS="127.0.0.1",
        LINKARCHIVE_FETCH_HOST_RATE="10000",
        LINKARCHIVE_FETCH_HOST_BURST="100",
        LINKARCHIVE_VISIBILITY_TIMEOUT="3",
        LINKARCHIVE_SHUTDOWN_GRACE="5",
        LINKARCHIVE_SECRET_KEY="a-test-secret-that-is-long-enough-for-hs256-tokens")


async def _create_database(dsn: str, name: str, drop: bool = False) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        if drop:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(params=["embedded", "scale-out"])
def worker_env(request, tmp_path) -> Iterator[dict[str, str]]:
    env = base_env(tmp_path)
    if request.param == "embedded":
        yield env
        return
    dsn = request.getfixturevalue("postgres_dsn")
    env["LINKARCHIVE_REDIS_URL"] = request.getfixturevalue("redis_url")
    env["LINKARCHIVE_REDIS_PREFIX"] = request.getfixturevalue("redis_prefix")
    env.update({"LINKARCHIVE_S3_ENDPOINT_URL": request.getfixturevalue("moto_server"),
                "LINKARCHIVE_S3_BUCKET": "thumbs", "LINKARCHIVE_S3_ACCESS_KEY": "test",
                "LINKARCHIVE_S3_SECRET_KEY": "test"})
    name = f"la_worker_{uuid.uuid4().hex[:8]}"
    anyio.run(_create_database, dsn, name)
    env["LINKARCHIVE_DATABASE_URL"] = dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield env
    finally:
        anyio.run(_create_database, dsn, name, True)


async def save_links(env: dict[str, str], base: str) -> list[str]:
    async with open_services(load_settings(environ=env)) as services:
        async with services.database.write() as tx:
            user = await create_user(tx, "kill@example.com", "x")
        ids = []
        for n in range(N):
            link, _ = await save_link(services, user.id, f"{base}/article/{n}")
            ids.append(link.id)
        # Scale-out: the jobs sit in the outbox until a relay moves them.
        if services.jobs.needs_relay:
            while await services.jobs.relay_once():
                pass
        return ids


async def statuses(env: dict[str, str], ids: list[str]) -> dict[str, list]:
    async with open_services(load_settings(environ=env), migrate=False) as services:
        async with services.database.read() as conn:
            user = await find_user_by_email(conn, "kill@example.com")
            links = [await get_link(conn, user.id, i) for i in ids]
        depth = 0
        for queue in ("scrape", "image", "tag"):
            stats = await services.mailbox.stats(queue)
            depth += stats.depth + stats.dead
    return {"links": links, "depth": [depth]}


def completed(env: dict[str, str], ids: list[str]) -> int:
    return sum(link.status == "completed" for link in anyio.run(statuses, env, ids)["links"])


def start_worker(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen:
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "linkarchive", "worker", *extra],
                                env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)


def stages_done(port: int) -> float:
    """The worker's own count of pipeline stages run, read from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "linkarchive_pipeline_stage_total":
                total += sample.value
    return total


def test_worker_killed_mid_pipeline_then_restarted_completes_everything_once(
        worker_env, tmp_path) -> None:
    site = Site()
    with SiteThread(site) as served:
        ids = anyio.run(save_links, worker_env, served.base)
        log = tmp_path / "worker.log"
        first = start_worker(worker_env, log)
        try:
            wait_until(lambda: completed(worker_env, ids) >= 10, timeout=90, interval=0.2,
                       what="first completions")
        finally:
            first.kill()
            first.wait(timeout=10)
        assert completed(worker_env, ids) < N, "the kill must land mid-pipeline"

        port = free_port()
        second = start_worker(worker_env, log, "--port", str(port))
        try:
            wait_until(lambda: completed(worker_env, ids) == N, timeout=180, interval=0.3,
                       what="every link completed")
            wait_until(lambda: anyio.run(statuses, worker_env, ids)["depth"] == [0],
                       timeout=30, interval=0.3, what="empty queues")
            # The worker serves no API, but operators still see its probes and metrics.
            assert stages_done(port) >= 1  # this process finished what the killed one left
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
                assert ready.status == 200
        finally:
            second.send_signal(signal.SIGTERM)
            code = second.wait(timeout=60)
        assert code == 0, log.read_text()[-3000:]
    for link in anyio.run(statuses, worker_env, ids)["links"]:
        assert sorted(i.variant for i in link.images) == ["large", "medium", "original", "small"]
        names = [t.name for t in link.tags]
        assert names and len(names) == len(set(names))
    # Each page was fetched at least once; redelivery after the kill may fetch a page again,
    # but the shared result and run-keyed stages keep every effect single.
    assert all(site.hits[f"/article/{n}"] >= 1 for n in range(N))
