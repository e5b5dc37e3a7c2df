"""RFC 9457 problem details, and the one table that maps exceptions to them.

Problems use ``type: about:blank``, so ``title`` is the HTTP status phrase and clients switch on
``status``; ``detail`` says what happened in words written for the caller. Server-side failures
(5xx) never carry the exception's own text: it may hold driver messages, hosts or paths.
Every problem carries ``request_id`` so that a report can be matched with the logs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

from linkarchive.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    UnavailableError,
)
from linkarchive.http.jsonio import MalformedBody, json_response
from linkarchive.http.keys import REQUEST_ID
from linkarchive.http.schema import ValidationFailed

__all__ = ["PROBLEM_TYPE", "WWW_AUTHENTICATE", "StaleVersion", "problem_for", "problem_response"]

log = logging.getLogger("linkarchive.http")

PROBLEM_TYPE = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="linkarchive"'
UNAVAILABLE_RETRY_AFTER = 5.0
INTERNAL_DETAIL = "An unexpected error occurred; quote the request id when reporting it."


def _retry_after_seconds(exc: BaseException) -> int:
    # Retry-After takes whole seconds; round up so a client never comes back too early.
    seconds = getattr(exc, "retry_after", None) or UNAVAILABLE_RETRY_AFTER
    return max(1, math.ceil(seconds))


class StaleVersion(Conflict):
    """The resource changed since the version the request was based on."""

    def __init__(self, current: Mapping[str, Any], message: str | None = None) -> None:
        super().__init__(message or f"The resource is at version {current.get('version')}; "
                                    "merge with `current` and send that version.")
        self.current = current
        """The resource as it is now, as the API shows it: the problem's ``current`` member."""


@dataclass(frozen=True, kw_only=True)
class _Rule:
    status: int
    expose: bool = True
    """Use the exception's message as ``detail``; false for server-side failures."""
    headers: Callable[[BaseException], Mapping[str, str]] = field(default=lambda exc: {})
    extensions: Callable[[BaseException], Mapping[str, Any]] = field(default=lambda exc: {})


# The one table. Looked up along the exception's MRO, so the most specific class wins.
RULES: Mapping[type[BaseException], _Rule] = {
    MalformedBody: _Rule(status=400),
    ValidationFailed: _Rule(status=422, extensions=lambda exc: {"errors": getattr(exc, "errors", [])}),
    InvalidInput: _Rule(status=422),
    Unauthorized: _Rule(status=401, headers=lambda exc: {"WWW-Authenticate": WWW_AUTHENTICATE}),
    Forbidden: _Rule(status=403),
    NotFound: _Rule(status=404),
    StaleVersion: _Rule(status=409, extensions=lambda exc: {"current": getattr(exc, "current", None)}),
    Conflict: _Rule(status=409),
    RateLimited: _Rule(
        status=429,
        headers=lambda exc: {"Retry-After": str(_retry_after_seconds(exc))},
        extensions=lambda exc: {"retry_after": _retry_after_seconds(exc)}),
    UnavailableError: _Rule(
        status=503, expose=False,
        headers=lambda exc: {"Retry-After": str(_retry_after_seconds(exc))},
        extensions=lambda exc: {"retry_after": _retry_after_seconds(exc)}),
}

# aiohttp's exceptions already are responses; these of their headers are worth keeping.
_KEPT_HEADERS = ("Allow", "Location", "Retry-After", "Upgrade", "WWW-Authenticate")


def problem_response(status: int, *, detail: str | None = None, instance: str | None = None,
                     request_id: str | None = None, headers: Mapping[str, str] | None = None,
                     **extensions: Any) -> web.Response:
    """An ``application/problem+json`` response; ``extensions`` become extra members."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        title = "Client Error" if status < 500 else "Server Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    return json_response(body, status=status, headers=headers, content_type=PROBLEM_TYPE)


def _rule_for(exc: BaseException) -> _Rule | None:
    for cls in type(exc).__mro__:
        if cls in RULES:
            return RULES[cls]
    return None


def _from_http_exception(exc: web.HTTPException) -> tuple[str | None, dict[str, str]]:
    default_text = f"{exc.status}: {exc.reason}"
    detail = exc.text if exc.status < 500 and exc.text and exc.text != default_text else None
    if isinstance(exc, web.HTTPMethodNotAllowed):
        detail = f"{exc.method} is not allowed here; use {', '.join(sorted(exc.allowed_methods))}."
    headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
    return detail, headers


def problem_for(exc: Exception, request: web.BaseRequest) -> web.Response:
    """The problem response for ``exc``; an unmapped exception is logged and answers 500."""
    context = {"instance": request.path, "request_id": request.get(REQUEST_ID)}
    if isinstance(exc, web.HTTPException):
        detail, headers = _from_http_exception(exc)
        return problem_response(exc.status, detail=detail, headers=headers, **context)
    rule = _rule_for(exc)
    if rule is None:
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method, request.path,
                  exc_info=exc)
        return problem_response(500, detail=INTERNAL_DETAIL, **context)
    if rule.expose:
        detail = str(exc)
    else:
        log.warning("%s in %s %s: %s", type(exc).__name__, request.method, request.path, exc)
        detail = (type(exc).__doc__ or "").strip()
    return problem_response(rule.status, detail=detail, headers=rule.headers(exc),
                            **context, **rule.extensions(exc))
