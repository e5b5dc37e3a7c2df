"""``GET /metrics`` (Prometheus text exposition) and the request-latency middleware.

Latency is labelled with the route's canonical path (``/api/v1/links/{id}``), never the raw
URL, so the number of series stays bounded whatever clients request.
"""

from __future__ import annotations

import time

import anyio
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from linkarchive.engine.actors.context import IMAGE, SCRAPE, TAG
from linkarchive.http.keys import SERVICES
from linkarchive.http.middlewares import public
from linkarchive.http.openapi import operation
from linkarchive.metrics import HTTP_LATENCY, refresh

__all__ = ["latency_middleware", "metrics", "setup"]

QUEUES = (SCRAPE, IMAGE, TAG)
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# nginx's code for a client that went away before the answer: the handler was cancelled.
CLIENT_CLOSED = 499


def route_of(request: web.BaseRequest) -> str:
    """The canonical path of the route that matched, or ``unmatched`` (404, 405)."""
    match = getattr(request, "match_info", None)
    if match is None or match.http_exception is not None or match.route.resource is None:
        return UNMATCHED
    return match.route.resource.canonical


def latency_middleware() -> Middleware:
    """Observe every request's duration by method, route and final status; install outermost
    so the status is the one the client got, problems included."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except anyio.get_cancelled_exc_class():
            status = CLIENT_CLOSED
            raise
        finally:
            method = request.method if request.method in _METHODS else "OTHER"
            HTTP_LATENCY.labels(method, route_of(request), str(status)).observe(
                time.perf_counter() - started)

    return middleware


@public
@operation(summary="Prometheus metrics in the text exposition format", tags=("probes",),
           responses={200: None})
async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await refresh(getattr(services, "mailbox", None), getattr(services, "cache", None), QUEUES)
    return web.Response(body=generate_latest(REGISTRY),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
    app.middlewares.insert(0, latency_middleware())
