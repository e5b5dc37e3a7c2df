"""An access log that leaves out query strings, which may carry an access token."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from linkarchive.http.keys import REQUEST_ID

__all__ = ["AccessLogger"]


class AccessLogger(AbstractAccessLogger):
    """One line per request: address, method, path, status, milliseconds, request id.
    Pass it to the runner: ``web.AppRunner(app, access_log_class=AccessLogger)``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        request_id = request.get(REQUEST_ID, "-")
        self.logger.info(
            "%s %s %s %d %.1fms %s", request.remote, request.method, request.path,
            response.status, time * 1000, request_id,
            extra={"method": request.method, "path": request.path, "status": response.status,
                   "duration_ms": round(time * 1000, 1), "request_id": request_id})
