"""The API's routes: one module per area, each registering itself with ``setup(app)``."""

from __future__ import annotations

from aiohttp import web

from linkarchive.http import openapi
from linkarchive.http.routes import events, probes

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Register every route module's routes on ``app``."""
    probes.setup(app)
    events.setup(app)
    openapi.setup(app)
