"""Request ids, CORS and the auth middleware, through a real server."""

from __future__ import annotations

import logging

import orjson
import pytest
from aiohttp import web

from linkarchive.errors import ConfigError
from linkarchive.http.jsonio import json_response
from linkarchive.http.middlewares import (
    auth_middleware,
    cors_middleware,
    public,
)
from linkarchive.http.tokens import AccessTokens
from linkarchive.logs import JSONFormatter, request_id_var
from tests.http.support import ORIGIN, SECRET, bearer, make_app, serve, token_for

pytestmark = pytest.mark.anyio

log = logging.getLogger("tests.http.request")
routes = web.RouteTableDef()


@routes.get("/api/v1/request-id")
@public
async def request_id(request: web.Request) -> web.Response:
    log.warning("handling")
    return json_response({"seen": request_id_var.get()})


@routes.get("/api/v1/private")
async def private(request: web.Request) -> web.Response:
    return json_response({"private": True})


@pytest.mark.parametrize(("sent", "kept"), [
    ("abc-123_trace.7:x", True),
    (None, False),
    ("", False),
    ("has space", False),
    ("x" * 129, False),
    ("inject\u00e9", False),
])
async def test_a_sane_request_id_is_echoed_and_any_other_replaced(sent, kept) -> None:
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # formatted as production does
            lines.append(orjson.loads(JSONFormatter().format(record)))

    handler = Capture()
    logging.getLogger("tests.http.request").addHandler(handler)
    try:
        async with serve(make_app(routes=routes)) as client:
            headers = ({"X-Request-ID": sent.encode().decode("latin-1")}
                       if sent is not None else {})
            response = await client.get("/api/v1/request-id", headers=headers)
            assert response.status == 200
            echoed = response.headers["X-Request-ID"]
            assert (await response.json())["seen"] == echoed
    finally:
        logging.getLogger("tests.http.request").removeHandler(handler)
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and len(echoed) == 32
    [line] = lines
    assert line["request_id"] == echoed and line["msg"] == "handling"
    assert request_id_var.get() is None


async def test_a_cors_preflight_from_an_allowed_origin() -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.options("/api/v1/private", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
        assert response.headers["Access-Control-Max-Age"] == "600"
        assert "Origin" in response.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(("origin", "method", "headers", "reason"), [
    ("https://evil.example", "GET", "", "Origin https://evil.example is not allowed"),
    ("http://app.example.org", "GET", "", "is not allowed"),  # another scheme, another origin
    (ORIGIN, "TRACE", "", "Method TRACE is not allowed"),
    (ORIGIN, "GET", "x-secret", "x-secret are not allowed"),
])
async def test_a_cors_preflight_that_is_refused(origin, method, headers, reason) -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.options("/api/v1/private", headers={
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers})
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
        body = await response.json(content_type="application/problem+json")
        assert reason in body["detail"]


async def test_cors_headers_on_answers_and_problems_for_allowed_origins_only() -> None:
    app = make_app(routes=routes)
    async with serve(app) as client:
        allowed = await client.get("/api/v1/private",
                                   headers={"Origin": ORIGIN, **bearer(token_for(app))})
        assert allowed.status == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
        assert "Retry-After" in allowed.headers["Access-Control-Expose-Headers"]
        problem = await client.get("/api/v1/private", headers={"Origin": ORIGIN})
        assert problem.status == 401  # readable by the app, so it can refresh its token
        assert problem.headers["Access-Control-Allow-Origin"] == ORIGIN
        foreign = await client.get("/api/v1/request-id", headers={"Origin": "https://evil.example"})
        assert foreign.status == 200
        assert "Access-Control-Allow-Origin" not in foreign.headers
        assert foreign.headers["Vary"] == "Origin"


async def test_cors_may_allow_every_origin_but_never_with_credentials() -> None:
    async with serve(make_app(routes=routes, cors_origins=("*",))) as client:
        response = await client.get("/api/v1/request-id", headers={"Origin": "https://any.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    with pytest.raises(ConfigError, match="credentials"):
        cors_middleware(origins=("*",), allow_credentials=True)
    with pytest.raises(ConfigError, match="scheme://host"):
        cors_middleware(origins=("app.example.org",))
    cors_middleware(origins=("chrome-extension://abcdefghijklmnop", "http://localhost:8081"))


async def test_public_paths_skip_authentication() -> None:
    tokens = AccessTokens(secret=SECRET)
    app = web.Application(middlewares=[auth_middleware(tokens=tokens,
                                                       public_paths={"/api/v1/private"})])
    app.router.add_routes(routes)
    async with serve(app) as client:
        assert (await client.get("/api/v1/private")).status == 200
        assert (await client.get("/api/v1/nowhere")).status == 404  # not 401: no route matched
