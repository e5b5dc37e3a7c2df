"""Helpers for the HTTP edge tests: settings, a stand-in service container, a real test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient as Client
from aiohttp.test_utils import TestServer as Server

from linkarchive.config.settings import ServerSettings
from linkarchive.http.app import create_app
from linkarchive.http.keys import TOKENS

SECRET = "test-secret-" + "k" * 52  # 64 bytes: long enough for HS256 and HS512
ORIGIN = "https://app.example.org"


def server_settings(**changes: Any) -> ServerSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": 0, "open_registration": False, "secret_key": SECRET,
            "public_url": "", "trusted_proxies": (),
        "cors_origins": (ORIGIN,), "access_token_ttl": 900, "refresh_token_ttl": 86400,
        "rate_limit": 1000, "log_level": "info",
    }
    values.update(changes)
    return ServerSettings(**values)


@dataclass
class Backend:
    """Stands in for a database or mailbox: ``ping`` raises ``error`` when one is set."""

    error: BaseException | None = None
    pings: int = 0

    async def ping(self) -> None:
        self.pings += 1
        if self.error is not None:
            raise self.error


@dataclass
class Services:
    """Stands in for the service container (ours, not a peer's)."""

    database: Backend = field(default_factory=Backend)
    mailbox: Backend = field(default_factory=Backend)
    events: Any = None
    rate_limiter: Any = None
    secret_key: bytes | None = None


def make_app(*, routes: web.RouteTableDef | None = None, services: Services | None = None,
             **settings: Any) -> web.Application:
    app = create_app(server_settings(**settings), services=services or Services())
    if routes is not None:
        app.router.add_routes(routes)
    return app


@asynccontextmanager
async def serve(app: web.Application, **runner_options: Any) -> AsyncIterator[Client]:
    """The app on a real socket at 127.0.0.1, with a client for it; ``runner_options`` go to
    the AppRunner (``access_log_class`` …)."""
    server = Server(app, host="127.0.0.1")
    await server.start_server(**runner_options)
    async with Client(server) as client:
        yield client


def token_for(app: web.Application, user_id: str = "user-1", session_id: str = "session-1") -> str:
    return app[TOKENS].issue(user_id=user_id, session_id=session_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
