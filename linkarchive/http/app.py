"""The application factory: settings and services in, a configured aiohttp app out."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from linkarchive.config.settings import ServerSettings
from linkarchive.http import routes
from linkarchive.http.events import InProcessEventBus
from linkarchive.http.forwarded import forwarded_middleware
from linkarchive.http.keys import (
    EVENTS,
    PASSWORDS,
    RATE_LIMITER,
    SERVICES,
    SESSION_CHECK,
    SETTINGS,
    TOKENS,
    Services,
)
from linkarchive.http.middlewares import (
    auth_middleware,
    body_limit_middleware,
    cors_middleware,
    problem_middleware,
    request_id_middleware,
)
from linkarchive.http.passwords import Passwords
from linkarchive.http.ratelimit import InProcessRateLimiter, Rate, rate_limit_middleware
from linkarchive.http.sessions import SessionCheck
from linkarchive.http.tokens import AccessTokens
from linkarchive.storage.database import Database

__all__ = ["AUTH_PREFIX", "MAX_BODY_SIZE", "create_app"]

MAX_BODY_SIZE = 1024 * 1024
AUTH_PREFIX = "/api/v1/auth/"  # unauthenticated routes limited per client address


async def _event_bus(app: web.Application) -> AsyncIterator[None]:
    """The container's bus when it has one (the container owns it), else one in this process."""
    bus = getattr(app[SERVICES], "events", None)
    if bus is not None:
        app[EVENTS] = bus
        yield
        return
    async with InProcessEventBus() as own_bus:
        app[EVENTS] = own_bus
        yield


def create_app(settings: ServerSettings, *, services: Services) -> web.Application:
    """The API app. ``services`` may bring the ``secret_key`` it generated when the setting is
    empty, and ``events`` and ``rate_limiter`` shared across processes through Redis; without
    them both live in this process."""
    secret = getattr(services, "secret_key", None) or settings.secret_key
    tokens = AccessTokens(secret=secret, ttl=settings.access_token_ttl)
    limiter = (getattr(services, "rate_limiter", None)
               or InProcessRateLimiter(Rate(settings.rate_limit, 60.0)))
    # Ended sessions are looked up in our database; a stand-in container has none.
    database = getattr(services, "database", None)
    sessions = SessionCheck(database) if isinstance(database, Database) else None
    app = web.Application(client_max_size=MAX_BODY_SIZE, middlewares=[
        request_id_middleware(),
        cors_middleware(origins=settings.cors_origins),
        problem_middleware(),
        body_limit_middleware(max_size=MAX_BODY_SIZE),
        auth_middleware(tokens=tokens, session_active=sessions),
        rate_limit_middleware(limiter=limiter, ip_paths=(AUTH_PREFIX,)),
    ])
    if settings.trusted_proxies:
        app.middlewares.insert(0, forwarded_middleware(trusted=settings.trusted_proxies))
    app[SETTINGS] = settings
    app[SERVICES] = services
    app[TOKENS] = tokens
    app[PASSWORDS] = Passwords()
    app[RATE_LIMITER] = limiter
    if sessions is not None:
        app[SESSION_CHECK] = sessions
    app.cleanup_ctx.append(_event_bus)
    routes.setup(app)
    return app
