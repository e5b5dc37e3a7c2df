"""Typed state of the HTTP edge: the application and request keys, and what they hold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from linkarchive.config.settings import ServerSettings
    from linkarchive.http.events import EventBus
    from linkarchive.http.passwords import Passwords
    from linkarchive.http.ratelimit import RateLimiter
    from linkarchive.http.routes.serialize import ThumbnailUrls
    from linkarchive.http.sessions import SessionCheck
    from linkarchive.http.tokens import AccessClaims, AccessTokens

__all__ = [
    "BODY",
    "CLAIMS",
    "EVENTS",
    "OPENAPI",
    "PASSWORDS",
    "QUERY",
    "RATE_LIMITER",
    "REQUEST_ID",
    "SERVICES",
    "SESSION_CHECK",
    "SETTINGS",
    "SOCKETS",
    "THUMBNAIL_URLS",
    "TOKENS",
    "Pingable",
    "Services",
]


class Pingable(Protocol):
    async def ping(self) -> None:
        """Return when the backend answers; raise UnavailableError when it does not."""


class Services(Protocol):
    """What the app needs from the service container. Optional members, read with ``getattr``:
    ``secret_key`` (str or bytes; else the setting), ``events`` (an EventBus), ``rate_limiter``
    (a RateLimiter), ``cache``, ``blobs``."""

    @property
    def database(self) -> Pingable: ...

    @property
    def mailbox(self) -> Pingable: ...


SETTINGS: web.AppKey[ServerSettings] = web.AppKey("settings")
SERVICES: web.AppKey[Services] = web.AppKey("services")
TOKENS: web.AppKey[AccessTokens] = web.AppKey("tokens")
PASSWORDS: web.AppKey[Passwords] = web.AppKey("passwords")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
EVENTS: web.AppKey[EventBus] = web.AppKey("events")
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")
OPENAPI: web.AppKey[Mapping[str, Any]] = web.AppKey("openapi")
SESSION_CHECK: web.AppKey[SessionCheck] = web.AppKey("session_check")
"""Present when the container brings our database: tells the auth middleware which sessions
have ended."""
THUMBNAIL_URLS: web.AppKey[ThumbnailUrls] = web.AppKey("thumbnail_urls")

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
CLAIMS: web.RequestKey[AccessClaims] = web.RequestKey("claims")
"""The verified access token of an authenticated request; absent on public routes."""
BODY: web.RequestKey[Any] = web.RequestKey("body")
"""The request body, parsed and validated against its operation's schema."""
QUERY: web.RequestKey[Mapping[str, Any]] = web.RequestKey("query")
"""The query parameters, converted to their schema types and validated."""
