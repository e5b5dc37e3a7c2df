"""The OpenAPI document describes every route, and schemathesis holds the handlers to it.

The app runs over real services (temporary SQLite) on a real port in a thread of its own, so
schemathesis' synchronous client can reach it. Every operation gets a bounded number of
generated requests, valid and invalid, signed in as a real user; none may answer a 5xx or a
response its schema does not allow.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis import GenerationMode, checks

from linkarchive.http.app import create_app
from linkarchive.http.openapi import build_document
from linkarchive.services import open_services
from tests.http.api import PASSWORD, api_settings
from tests.http.support import make_app

ROUTES = {
    ("post", "/api/v1/auth/register"), ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"), ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/users/me"), ("post", "/api/v1/links"), ("get", "/api/v1/links"),
    ("get", "/api/v1/links/{id}"), ("patch", "/api/v1/links/{id}"),
    ("delete", "/api/v1/links/{id}"), ("post", "/api/v1/links/{id}/retry"),
    ("get", "/api/v1/tags"), ("get", "/api/v1/tags/{name}/links"), ("get", "/api/v1/search"),
    ("get", "/api/v1/sync/pull"), ("post", "/api/v1/sync/push"),
}
FRESH = itertools.count()
PUBLIC = {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh"}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.response_headers_conformance, checks.negative_data_rejection,
          checks.ignored_auth, checks.unsupported_method]


class LiveApi:
    """The app over ``open_services`` on 127.0.0.1, served from a thread with its own loop."""

    def __init__(self, data_dir: Path) -> None:
        self._settings = api_settings(data_dir)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with open_services(self._settings) as services:
            runner = web.AppRunner(create_app(self._settings.server, services=services))
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                host, port = runner.addresses[0][:2]
                self.url = f"http://{host}:{port}"
                self._ready.set()
                await self._stop.wait()
            finally:
                await runner.cleanup()

    def __enter__(self) -> LiveApi:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the API did not start within 30 s")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def sign_in(self, email: str) -> str:
        """An access token for ``email``, registering it first if need be."""
        requests.post(f"{self.url}/api/v1/auth/register", timeout=10,
                      json={"email": email, "password": PASSWORD})
        response = requests.post(f"{self.url}/api/v1/auth/login", timeout=10,
                                 json={"email": email, "password": PASSWORD})
        response.raise_for_status()
        return response.json()["access_token"]

    def save_link(self, token: str, url: str) -> str:
        """The id of a new link of the token's user."""
        response = requests.post(f"{self.url}/api/v1/links", timeout=10,
                                 json={"url": url, "tags": ["tech"]},
                                 headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.json()["id"]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with LiveApi(tmp_path_factory.mktemp("api")) as live:
        yield live



@pytest.fixture(scope="module")
def token(live_api: LiveApi) -> str:
    token = live_api.sign_in("fuzz@example.com")
    for n in range(3):  # something to list and search
        live_api.save_link(token, f"https://example.com/{n}")
    return token


@pytest.fixture(scope="module")
def document(live_api: LiveApi) -> dict:
    return requests.get(f"{live_api.url}/api/v1/openapi.json", timeout=10).json()


# The document is built here from the app's routes, as the server builds it at startup (a
# test below checks the two are equal): the parametrized tests need it at collection time.
DOCUMENT = build_document(make_app())
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_document_is_valid_openapi_and_lists_every_route(document: dict) -> None:
    validate_openapi(document)
    assert document == DOCUMENT
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert ROUTES <= described
    for method, path in ROUTES:
        entry = document["paths"][path][method]
        assert entry["summary"] and "default" in entry["responses"], (method, path)
        assert any(int(status) < 300 and "content" in response or status in ("202", "204")
                   for status, response in entry["responses"].items() if status != "default")
        assert (entry.get("security") == []) is (path in PUBLIC), (method, path)
        if method in ("post", "patch") and path not in (
                "/api/v1/auth/logout", "/api/v1/links/{id}/retry"):
            assert "requestBody" in entry, (method, path)
    assert document["security"] == [{"bearer": []}]


def _make_real(case: schemathesis.Case, live_api: LiveApi, token: str) -> None:
    """Point half the valid cases at things that exist, so success paths are fuzzed too."""
    ids = case.path_parameters or {}
    if "id" in ids and len(str(ids["id"])) % 2:
        ids["id"] = live_api.save_link(token, f"https://example.com/fresh/{next(FRESH)}")
    if "name" in ids and len(str(ids["name"])) % 2:
        ids["name"] = "tech"
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str) and len(body["url"]) % 2:
        body["url"] = f"https://example.com/saved/{len(body['url']) % 5}"  # new, then again


# Derandomized: the same cases every run, so a failure is the API's and reproduces. (Random
# runs of 300 cases per operation found nothing more than schemathesis counting a generated
# parameter that never reached the wire, because our Authorization header replaced its own.)
@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_generated_requests_get_answers_their_schema_allows(
        case: schemathesis.Case, live_api: LiveApi, token: str) -> None:
    if case.operation.path == "/api/v1/auth/logout":  # a session of its own to end
        token = live_api.sign_in("logout@example.com")
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        _make_real(case, live_api, token)
    case.call_and_validate(base_url=live_api.url, headers={"Authorization": f"Bearer {token}"},
                           checks=CHECKS)
