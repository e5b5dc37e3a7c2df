"""JSON in and out of the HTTP edge, through orjson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from linkarchive.errors import InvalidInput

__all__ = ["JSON_TYPE", "MalformedBody", "dumps", "json_response", "read_json"]

JSON_TYPE = "application/json"


class MalformedBody(InvalidInput):
    """The request body is not valid JSON."""


def dumps(data: Any) -> bytes:
    """Serialize ``data`` as compact UTF-8 JSON; raise TypeError for what JSON cannot hold."""
    return orjson.dumps(data)


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None,
                  content_type: str = JSON_TYPE) -> web.Response:
    """A response whose body is ``data`` as JSON."""
    return web.Response(body=dumps(data), status=status, headers=headers,
                        content_type=content_type)


async def read_json(request: web.BaseRequest) -> Any:
    """The request body parsed as JSON; MalformedBody when it is empty or not JSON."""
    raw = await request.read()
    if not raw.strip():
        raise MalformedBody("The request body is empty; a JSON document is required.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"The request body is not valid JSON: {exc}.") from None
