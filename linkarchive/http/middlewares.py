"""Middleware factories of the HTTP edge, each with keyword-only options.

``create_app`` installs them outermost first: request id, CORS, problems, body limit, auth, then
the rate limit (``ratelimit.rate_limit_middleware``). CORS sits outside problems so that error
responses carry CORS headers too, and the browser lets the app read them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from linkarchive.errors import ConfigError, Unauthorized
from linkarchive.http.keys import CLAIMS, REQUEST_ID
from linkarchive.http.problems import problem_for, problem_response
from linkarchive.http.tokens import AccessClaims, AccessTokens
from linkarchive.logs import request_id_var as _request_id

__all__ = [
    "allow_query_token",
    "allows_query_token",
    "auth_middleware",
    "bearer_token",
    "body_limit_middleware",
    "cors_middleware",
    "is_public",
    "problem_middleware",
    "public",
    "request_id_middleware",
]

REQUEST_ID_HEADER = "X-Request-ID"
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match", REQUEST_ID_HEADER)
CORS_EXPOSED = ("ETag", "Location", "Retry-After", REQUEST_ID_HEADER)

# Printable, header-safe and short: anything else from a client is replaced, not trusted.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)
# https://app.example, http://localhost:8081, chrome-extension://<id>, moz-extension://<uuid>
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s?#]+", re.ASCII)
_PUBLIC = "__linkarchive_public__"
_QUERY_TOKEN = "__linkarchive_query_token__"
QUERY_TOKEN_PARAMETER = "access_token"

H = TypeVar("H")


def public(handler: H) -> H:
    """Mark a handler (function or view class) as served without authentication."""
    setattr(handler, _PUBLIC, True)
    return handler


def is_public(handler: object) -> bool:
    return bool(getattr(handler, _PUBLIC, False))


def allow_query_token(handler: H) -> H:
    """Also accept the access token as ``?access_token=`` on this handler. Only for WebSocket
    handshakes, where browsers cannot set headers: URLs end up in logs and histories."""
    setattr(handler, _QUERY_TOKEN, True)
    return handler


def allows_query_token(handler: object) -> bool:
    return bool(getattr(handler, _QUERY_TOKEN, False))


def bearer_token(request: web.BaseRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def request_id_middleware(*, header: str = REQUEST_ID_HEADER) -> Middleware:
    """Take a sane incoming request id or make one; store it on the request and in a context
    variable for logs, and echo it on the response."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        incoming = request.headers.get(header, "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request[REQUEST_ID] = request_id
        token = _request_id.set(request_id)
        try:
            response = await handler(request)
        finally:
            _request_id.reset(token)
        if not response.prepared:  # a WebSocket or stream has sent its headers already
            response.headers[header] = request_id
        return response

    return middleware


def problem_middleware() -> Middleware:
    """Turn every error into an RFC 9457 problem response (see ``problems.RULES``)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:  # redirects and the like are answers, not errors
                raise
            return problem_for(exc, request)
        except Exception as exc:
            return problem_for(exc, request)

    return middleware


def body_limit_middleware(*, max_size: int) -> Middleware:
    """Refuse a declared body over ``max_size`` bytes before reading it; the app's
    ``client_max_size`` catches chunked bodies as they are read."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        size = request.content_length
        if size is not None and size > max_size:
            raise web.HTTPRequestEntityTooLarge(
                max_size=max_size, actual_size=size,
                text=f"The request body is {size} bytes; the limit is {max_size} bytes.")
        return await handler(request)

    return middleware


def _vary(response: web.StreamResponse, *names: str) -> None:
    present = {part.strip().lower() for part in response.headers.get("Vary", "").split(",")}
    missing = [name for name in names if name.lower() not in present]
    if missing:
        response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), *missing]))


def cors_middleware(*, origins: Collection[str], allow_credentials: bool = False,
                    methods: Collection[str] = CORS_METHODS, headers: Collection[str] = CORS_HEADERS,
                    exposed: Collection[str] = CORS_EXPOSED, max_age: int = 600) -> Middleware:
    """CORS for the listed ``origins`` (``scheme://host[:port]``, or ``*`` without credentials):
    answer preflights, refuse other origins' preflights with 403, and mark allowed responses.
    Bearer tokens are not credentials in the CORS sense, so ``allow_credentials`` stays off."""
    allowed = {origin.rstrip("/").lower() for origin in origins}
    wildcard = "*" in allowed
    if wildcard and allow_credentials:
        raise ConfigError("CORS cannot allow every origin ('*') with credentials; list them")
    for origin in allowed - {"*"}:
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"CORS origin {origin!r} is not of the form scheme://host[:port]")
    allowed_methods = {method.upper() for method in methods}
    allowed_headers = {name.lower() for name in headers}

    def allowed_origin(origin: str) -> str | None:
        if origin.rstrip("/").lower() in allowed:
            return origin
        return "*" if wildcard else None

    def preflight(request: web.Request, origin: str) -> web.StreamResponse:
        method = request.headers["Access-Control-Request-Method"].upper()
        asked = [name.strip() for name in
                 request.headers.get("Access-Control-Request-Headers", "").split(",") if name.strip()]
        refused = [name for name in asked if name.lower() not in allowed_headers]
        answer = allowed_origin(origin)
        if answer is None or method not in allowed_methods or refused:
            reason = (f"Origin {origin} is not allowed." if answer is None
                      else f"Method {method} is not allowed." if method not in allowed_methods
                      else f"Header(s) {', '.join(refused)} are not allowed.")
            return problem_response(403, detail=f"CORS preflight refused: {reason}",
                                    instance=request.path, request_id=request.get(REQUEST_ID))
        response = web.Response(status=204, headers={
            "Access-Control-Allow-Origin": answer,
            "Access-Control-Allow-Methods": ", ".join(sorted(allowed_methods)),
            "Access-Control-Allow-Headers": ", ".join(asked) or ", ".join(sorted(headers)),
            "Access-Control-Max-Age": str(max_age),
        })
        if allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        _vary(response, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
        return response

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None:
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return preflight(request, origin)
        response = await handler(request)
        answer = allowed_origin(origin)
        if response.prepared:
            return response
        if answer is not None:
            response.headers["Access-Control-Allow-Origin"] = answer
            response.headers["Access-Control-Expose-Headers"] = ", ".join(exposed)
            if allow_credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
        if answer != "*":
            _vary(response, "Origin")
        return response

    return middleware


def auth_middleware(*, tokens: AccessTokens, public_paths: Collection[str] = (),
                    session_active: Callable[[AccessClaims], Awaitable[bool]] | None = None
                    ) -> Middleware:
    """Require ``Authorization: Bearer <access token>`` (or, on ``@allow_query_token``
    handlers, ``?access_token=``) and put its claims in ``request[CLAIMS]``; except on handlers
    marked ``@public``, on ``public_paths``, and on requests no route matches (404 or 405).
    With ``session_active``, a valid token of a session that has ended is refused too."""
    open_paths = frozenset(public_paths)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        match = request.match_info
        if (match.http_exception is not None or is_public(match.handler)
                or request.path in open_paths):
            return await handler(request)
        token = bearer_token(request)
        if token is None and allows_query_token(match.handler):
            token = request.query.get(QUERY_TOKEN_PARAMETER) or None
        if token is None:
            raise Unauthorized("An access token is required: send 'Authorization: Bearer <token>'.")
        claims = tokens.verify(token)
        if session_active is not None and not await session_active(claims):
            raise Unauthorized("The session of this access token has ended; sign in again.")
        request[CLAIMS] = claims
        return await handler(request)

    return middleware
