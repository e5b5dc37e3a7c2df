"""The operators' app of a worker process: probes and metrics, nothing a user can reach."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from linkarchive.http.keys import SERVICES
from linkarchive.http.middlewares import problem_middleware
from linkarchive.http.routes import metrics, probes

__all__ = ["create_ops_app"]


def create_ops_app(services: Any) -> web.Application:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a process that serves no API."""
    app = web.Application(middlewares=[problem_middleware()])
    app[SERVICES] = services
    probes.setup(app)
    metrics.setup(app)
    return app
