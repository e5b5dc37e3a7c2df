"""Every error answers an RFC 9457 problem, through a real server."""

from __future__ import annotations

import io
import logging

import pytest
from aiohttp import web

from linkarchive import errors
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import BODY
from linkarchive.http.middlewares import public
from linkarchive.http.openapi import operation
from tests.http.support import make_app, serve

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
TWO_MB = 2 * 1024 * 1024

routes = web.RouteTableDef()

NOTE = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": 2048},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "maxItems": 3},
    },
}


@routes.post("/api/v1/notes")
@public
@operation(summary="Echo a note", body=NOTE, responses={200: NOTE})
async def echo(request: web.Request) -> web.Response:
    return json_response(request[BODY])


@routes.get("/api/v1/crash")
@public
async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("db password is hunter2 at /srv/secret/path")


RAISED = {
    "invalid": (errors.InvalidURL("That URL has no host."), 422),
    "unauthorized": (errors.Unauthorized("Wrong password."), 401),
    "forbidden": (errors.Forbidden("Admins only."), 403),
    "not-found": (errors.NotFound("No such link."), 404),
    "conflict": (errors.Conflict("The link changed since version 3."), 409),
    "rate-limited": (errors.RateLimited("Slow down.", retry_after=2.2), 429),
    "unavailable": (errors.DatabaseUnavailable("connect to 10.0.0.7:5432 failed"), 503),
    "config": (errors.ConfigError("LINKARCHIVE_X is bad"), 500),
}


@routes.get("/api/v1/raise/{name}")
@public
async def raise_named(request: web.Request) -> web.Response:
    raise RAISED[request.match_info["name"]][0]


async def problem_of(response) -> dict:
    assert response.content_type == PROBLEM
    body = await response.json(content_type=PROBLEM)
    assert body["status"] == response.status
    assert body["type"] == "about:blank"
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_unknown_path_is_a_404_problem() -> None:
    async with serve(make_app()) as client:
        response = await client.get("/api/v1/nothing-here")
        assert response.status == 404
        body = await problem_of(response)
        assert body["title"] == "Not Found"
        assert body["instance"] == "/api/v1/nothing-here"


async def test_wrong_method_is_a_405_problem_with_allow() -> None:
    async with serve(make_app()) as client:
        response = await client.delete("/healthz")
        assert response.status == 405
        assert "GET" in response.headers["Allow"]
        body = await problem_of(response)
        assert "DELETE is not allowed" in body["detail"]


async def test_a_declared_2mb_body_is_refused_with_413() -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.post("/api/v1/notes", data=io.BytesIO(b"x" * TWO_MB),
                                     headers={"Content-Type": "application/json"})
        assert response.status == 413
        body = await problem_of(response)
        assert "limit is 1048576 bytes" in body["detail"]


async def test_a_chunked_2mb_body_is_refused_with_413() -> None:
    async def chunks():
        for _ in range(32):
            yield b"x" * (64 * 1024)

    async with serve(make_app(routes=routes)) as client:
        response = await client.post("/api/v1/notes", data=chunks())
        assert response.status == 413
        body = await problem_of(response)
        assert "1048576" in body["detail"]


@pytest.mark.parametrize("payload", [b"{not json", b"", b'{"url": "a",}'])
async def test_malformed_json_is_a_400_problem(payload: bytes) -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.post("/api/v1/notes", data=payload)
        assert response.status == 400
        body = await problem_of(response)
        assert "JSON" in body["detail"]


async def test_a_schema_violation_is_a_422_problem_listing_the_fields() -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.post("/api/v1/notes",
                                     json={"tags": ["ok", 7, "far-too-long-tag"], "extra": 1})
        assert response.status == 422
        body = await problem_of(response)
        assert {(e["pointer"], e["detail"]) for e in body["errors"]} == {
            ("#/url", "is required"),
            ("#/tags/1", "must be of type string"),
            ("#/tags/2", "must be at most 10 characters long"),
            ("#/extra", "is not an allowed property"),
        }
        valid = await client.post("/api/v1/notes", json={"url": "https://example.org/"})
        assert valid.status == 200
        assert await valid.json() == {"url": "https://example.org/"}


async def test_an_unexpected_error_is_a_500_problem_without_internals(caplog) -> None:
    async with serve(make_app(routes=routes)) as client:
        with caplog.at_level(logging.ERROR, logger="linkarchive.http"):
            response = await client.get("/api/v1/crash", headers={"X-Request-ID": "trace-500"})
        assert response.status == 500
        text = await response.text()
        for leak in ("hunter2", "/srv/secret", "RuntimeError", "Traceback", "raise"):
            assert leak not in text
        body = await problem_of(response)
        assert body["request_id"] == "trace-500"
        assert "request id" in body["detail"]
    [record] = [r for r in caplog.records if r.name == "linkarchive.http"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


@pytest.mark.parametrize("name", sorted(RAISED))
async def test_the_exception_table(name: str) -> None:
    exc, status = RAISED[name]
    async with serve(make_app(routes=routes)) as client:
        response = await client.get(f"/api/v1/raise/{name}")
        assert response.status == status
        body = await problem_of(response)
    if status < 500:
        assert body["detail"] == str(exc)
    else:  # server-side text may hold hosts and settings: never shown
        assert str(exc) not in body.get("detail", "")
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status in (429, 503):
        retry_after = int(response.headers["Retry-After"])
        assert retry_after == body["retry_after"] == (3 if status == 429 else 5)
    if status == 503:
        assert body["detail"] == "The database cannot be reached right now."
