"""``GET /healthz`` (the process is up) and ``GET /readyz`` (its backends answer)."""

from __future__ import annotations

import anyio
from aiohttp import web

from linkarchive.errors import DatabaseUnavailable, MailboxUnavailable, UnavailableError
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import SERVICES
from linkarchive.http.middlewares import public
from linkarchive.http.openapi import operation

__all__ = ["healthz", "readyz", "setup"]

PING_TIMEOUT = 2.0
_CHECKS: tuple[tuple[str, type[UnavailableError]], ...] = (
    ("database", DatabaseUnavailable),
    ("mailbox", MailboxUnavailable),
)

_STATUS = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}
_READY = {"type": "object", "required": ["status", "checks"], "properties": {
    "status": {"const": "ready"},
    "checks": {"type": "object", "additionalProperties": {"const": "ok"}},
}}


@public
@operation(summary="Liveness: the process is up", tags=("probes",), responses={200: _STATUS})
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@public
@operation(summary="Readiness: the database and the mailbox answer", tags=("probes",),
           responses={200: _READY, 503: None})
async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = {}
    for name, unavailable in _CHECKS:
        backend = getattr(services, name, None)
        if backend is None:
            raise unavailable(f"no {name} is configured")
        try:
            with anyio.fail_after(PING_TIMEOUT):
                await backend.ping()
        except TimeoutError:
            raise unavailable(f"the {name} did not answer within {PING_TIMEOUT} s") from None
        checks[name] = "ok"
    return json_response({"status": "ready", "checks": checks})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
