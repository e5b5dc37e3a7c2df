"""``/metrics`` against the real app, services and engine: series move when work is done, and
the logs of a sign-in never hold a password or a token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from linkarchive.config import Settings, load_settings
from linkarchive.engine.actors import open_pipeline
from linkarchive.engine.supervisor import Supervisor
from linkarchive.http.accesslog import AccessLogger
from linkarchive.http.app import create_app
from linkarchive.http.middlewares import public
from linkarchive.links.save import save_link
from linkarchive.logs import JSONFormatter
from linkarchive.services import Services, open_services
from linkarchive.storage.repositories.links import get_link
from linkarchive.storage.repositories.users import create_user
from tests.http.support import serve

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def site() -> web.Application:
    """A page to scrape, one that is gone, and one that is always busy."""
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html lang='en'><head><title>A page</title><meta name="
                                  "'keywords' content='metrics, testing'></head><body>"
                                  "<p>Words about metrics.</p></body></html>",
                            content_type="text/html")

    async def gone(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def busy(request: web.Request) -> web.Response:
        raise web.HTTPServiceUnavailable(headers={"Retry-After": "0"})

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_get("/gone", gone)
    app.router.add_get("/busy", busy)
    return app


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(environ={
        "LINKARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "LINKARCHIVE_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "LINKARCHIVE_FETCH_HOST_RATE": "1000",
        "LINKARCHIVE_FETCH_HOST_BURST": "100",
        "LINKARCHIVE_MAX_DELIVERIES": "2",
        "LINKARCHIVE_SECRET_KEY": "metrics-test-" + "k" * 51,
    })


@asynccontextmanager
async def api(tmp_path: Path, **runner_options: object) -> AsyncIterator[tuple[Services, object]]:
    async with open_services(settings_for(tmp_path)) as services:
        app = create_app(services.settings.server, services=services)

        @public
        async def thing(request: web.Request) -> web.Response:
            return web.Response(text=request.match_info["id"])

        app.router.add_get("/things/{id}", thing)
        async with serve(app, **runner_options) as client:
            yield services, client


async def scrape(client) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


async def settle(services: Services, user_id: int, ids: list[str]) -> None:
    """Wait until every link finished and the busy one's message was dead-lettered."""
    with anyio.fail_after(60):
        while True:
            async with services.database.read() as conn:
                links = [await get_link(conn, user_id, i) for i in ids]
            dead = (await services.mailbox.stats("scrape")).dead
            if all(link.status in ("completed", "failed") for link in links) and dead:
                return
            await anyio.sleep(0.05)


async def test_pipeline_mailbox_and_http_series_move_when_work_is_done(tmp_path: Path) -> None:
    async with TestServer(site(), host="127.0.0.1") as pages, api(tmp_path) as (services, client):
        async with services.database.write() as tx:
            user = await create_user(tx, "ana@example.com", "hash")
        before = await scrape(client)
        ids = [(await save_link(services, user.id, str(pages.make_url(path))))[0].id
               for path in ("/page", "/gone", "/busy")]
        queued = await scrape(client)
        assert value(queued, "linkarchive_mailbox_depth", queue="scrape", state="ready") == 3
        assert value(queued, "linkarchive_mailbox_oldest_age_seconds", queue="scrape") > 0

        async with open_pipeline(services) as specs, anyio.create_task_group() as tg:
            supervisor = Supervisor(services.mailbox, specs, shutdown_grace=5)
            await tg.start(supervisor.run)
            await settle(services, user.id, ids)
            supervisor.stop()
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("linkarchive_pipeline_stage_total", stage="scrape", outcome="ok") == 1
    assert moved("linkarchive_pipeline_stage_total", stage="scrape", outcome="failed") == 2
    assert moved("linkarchive_pipeline_stage_total", stage="scrape", outcome="retry") == 1
    assert moved("linkarchive_pipeline_stage_total", stage="tag", outcome="ok") == 1
    assert moved("linkarchive_pipeline_stage_duration_seconds_count", stage="scrape",
                 outcome="ok") == 1
    assert moved("linkarchive_fetch_total", kind="page", outcome="ok") == 1
    assert moved("linkarchive_fetch_total", kind="page", outcome="http_error") == 3
    assert moved("linkarchive_mailbox_retries_total", queue="scrape") == 1
    assert moved("linkarchive_mailbox_dead_letters_total", queue="scrape") == 1
    assert total(after, "linkarchive_model_calls_total") - total(
        before, "linkarchive_model_calls_total") == 1
    for state in ("ready", "delayed", "in_flight"):
        assert value(after, "linkarchive_mailbox_depth", queue="scrape", state=state) == 0
    assert value(after, "linkarchive_mailbox_dead", queue="scrape") == 1
    assert value(after, "linkarchive_mailbox_oldest_age_seconds", queue="scrape") == 0
    assert total(after, "linkarchive_cache_lookups") > total(before, "linkarchive_cache_lookups")
    assert 0 <= value(after, "linkarchive_cache_hit_ratio") <= 1
    assert value(after, "process_resident_memory_bytes") > 0


async def test_latency_is_labelled_by_route_not_by_url(tmp_path: Path) -> None:
    async with api(tmp_path) as (_, client):
        before = await scrape(client)
        for thing in ("42", "43", "a%20b"):
            assert (await client.get(f"/things/{thing}")).status == 200
        assert (await client.get("/no/such/page")).status == 404
        assert (await client.get("/api/v1/users/me")).status == 401
        after = await scrape(client)
    name = "linkarchive_http_request_duration_seconds_count"

    def moved(**labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(method="GET", route="/things/{id}", status="200") == 3
    assert moved(method="GET", route="unmatched", status="404") == 1
    assert moved(method="GET", route="/api/v1/users/me", status="401") == 1
    assert moved(method="GET", route="/metrics", status="200") == 1
    routes = {dict(labels).get("route") for (n, labels) in after if n == name}
    assert not any(route and ("42" in route or "no/such" in route) for route in routes)


async def test_a_sign_in_logs_no_password_and_no_token(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    password, wrong = "Tr0ub4dor&3 staple horse", "not-my-password-123"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aiohttp.access")
    async with api(tmp_path, access_log_class=AccessLogger) as (_, client):
        account = {"email": "ana@example.com", "password": password}
        assert (await client.post("/api/v1/auth/register", json=account)).status == 201
        failed = await client.post("/api/v1/auth/login",
                                   json={"email": "ana@example.com", "password": wrong})
        assert failed.status == 401
        login = await client.post("/api/v1/auth/login", json=account)
        assert login.status == 200
        tokens = await login.json()
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status == 200
        assert (await client.get(f"/api/v1/users/me?access_token={access}")).status == 401
        rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
        assert rotated.status == 200
        newer = (await rotated.json())["refresh_token"]
        reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
        assert reused.status == 401
    formatter = JSONFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "/api/v1/auth/login" in logged  # the access log saw the requests
    for secret in (password, wrong, access, refresh, newer):
        assert secret not in logged
