"""Routes described once: the ``operation`` decorator validates requests with the same schemas
that the OpenAPI 3.1 document at ``/api/v1/openapi.json`` publishes, so the two cannot drift.

    @routes.post("/api/v1/links")
    @operation(summary="Save a link", body=LINK_IN, responses={201: LINK, 200: LINK})
    async def create_link(request: web.Request) -> web.Response:
        body = request[BODY]                      # parsed and valid

Query parameters are one object schema whose properties are the parameters; their values are
converted to the property's type (integer, number, boolean, string, or an array of those for
repeated parameters) before validation, and handed over as ``request[QUERY]``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from linkarchive.http.jsonio import JSON_TYPE, json_response, read_json
from linkarchive.http.keys import BODY, OPENAPI, QUERY
from linkarchive.http.middlewares import (
    QUERY_TOKEN_PARAMETER,
    allows_query_token,
    is_public,
    public,
)
from linkarchive.http.problems import PROBLEM_TYPE
from linkarchive.http.schema import Schema, ValidationFailed, check_schema, validate

__all__ = ["OPENAPI_PATH", "Operation", "build_document", "operation", "operation_of", "setup"]

OPENAPI_PATH = "/api/v1/openapi.json"
_ATTRIBUTE = "__linkarchive_operation__"
_PATH_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")  # aiohttp's {name} or {name:regex}
_INTEGER = re.compile(r"[-+]?\d{1,18}")

PROBLEM_SCHEMA: Schema = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "request_id": {"type": "string"}, "retry_after": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "current": {"type": "object", "description": "On a version conflict (409): the "
                                                     "resource as it is now."},
    },
}
_PROBLEM_REF: Schema = {"$ref": "#/components/schemas/Problem"}
_PARSER_ERROR = {"text/plain": {"schema": {"type": "string"}}}


@dataclass(frozen=True, kw_only=True)
class Operation:
    """What the document says about one handler."""

    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    body: Schema | None = None
    query: Schema | None = None
    responses: Mapping[int, Schema | None] = field(default_factory=lambda: {200: None})
    """Status → JSON schema of the body; None for no body, or a problem from 400 on."""


def operation(*, summary: str, description: str = "", tags: tuple[str, ...] = (),
              body: Schema | None = None, query: Schema | None = None,
              responses: Mapping[int, Schema | None] | None = None
              ) -> Callable[[Handler], Handler]:
    """Describe a handler for the document and validate its body and query before it runs."""
    for schema in (body, query, *(responses or {}).values()):
        if schema is not None:
            check_schema(schema)
    if query is not None and query.get("type") != "object":
        raise ValueError("a query schema is an object schema whose properties are parameters")
    described = Operation(summary=summary, description=description, tags=tags, body=body,
                          query=query, responses=dict(responses or {200: None}))

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def validated(request: web.Request) -> web.StreamResponse:
            if described.query is not None:
                request[QUERY] = _parse_query(request, described.query)
            if described.body is not None:
                value = await read_json(request)
                errors = validate(described.body, value)
                if errors:
                    raise ValidationFailed(errors)
                request[BODY] = value
            return await handler(request)

        setattr(validated, _ATTRIBUTE, described)
        return validated

    return decorate


def operation_of(handler: object) -> Operation | None:
    return getattr(handler, _ATTRIBUTE, None)


def _convert(raw: str, schema: Schema) -> Any:
    """The query string ``raw`` as the schema's type; left as is when it does not convert, so
    that validation reports it."""
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "integer" in kinds and _INTEGER.fullmatch(raw):
        return int(raw)
    if "number" in kinds:
        try:
            return float(raw)
        except ValueError:
            pass
    if "boolean" in kinds and raw.lower() in ("true", "false", "1", "0"):
        return raw.lower() in ("true", "1")
    return raw


def _parse_query(request: web.Request, schema: Schema) -> dict[str, Any]:
    properties = schema.get("properties", {})
    # The parser drops "=value" pairs; a parameter without a name is refused, not ignored.
    if any(pair.startswith("=") for pair in request.rel_url.raw_query_string.split("&")):
        raise ValidationFailed([{"parameter": "", "detail": "a parameter has no name"}],
                               "The query parameters do not match the schema.")
    values: dict[str, Any] = {}
    for name in request.query:
        prop = properties.get(name, {})
        if prop.get("type") == "array":
            values[name] = [_convert(raw, prop.get("items", {})) for raw in request.query.getall(name)]
        else:
            values[name] = _convert(request.query[name], prop)
    # The schema is an object of parameters, so a pointer's first token names the parameter.
    errors = [{"parameter": error["pointer"][2:].split("/", 1)[0], "detail": error["detail"]}
              for error in validate(schema, values)]
    if errors:
        raise ValidationFailed(errors, "The query parameters do not match the schema.")
    return values


def _json_content(schema: Schema, media_type: str = JSON_TYPE) -> dict[str, Any]:
    return {media_type: {"schema": dict(schema)}}


def _security(handler: object) -> list[dict[str, list[str]]] | None:
    """The operation's security requirement; None for the document's default (bearer)."""
    if is_public(handler):
        return []
    if allows_query_token(handler):
        return [{"bearer": []}, {"query_token": []}]
    return None


def _describe(described: Operation, path: str,
              security: list[dict[str, list[str]]] | None) -> dict[str, Any]:
    document: dict[str, Any] = {"summary": described.summary, "responses": {}}
    if described.description:
        document["description"] = described.description
    if described.tags:
        document["tags"] = list(described.tags)
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PATH_PARAMETER.findall(path)]
    if described.query is not None:
        required = set(described.query.get("required", ()))
        parameters += [{"name": name, "in": "query", "required": name in required,
                        "schema": dict(schema)}
                       for name, schema in described.query.get("properties", {}).items()]
    if parameters:
        document["parameters"] = parameters
    if described.body is not None:
        document["requestBody"] = {"required": True, "content": _json_content(described.body)}
    for status, schema in sorted(described.responses.items()):
        entry: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if schema is not None:
            entry["content"] = _json_content(schema)
        elif status >= 400:
            entry["content"] = _json_content(_PROBLEM_REF, PROBLEM_TYPE)
        document["responses"][str(status)] = entry
    document["responses"]["default"] = {
        "description": "A problem (RFC 9457): 4xx for the request, 5xx for the server. A"
                       " request the HTTP parser refuses before the app sees it (a request"
                       " line or header over 8 KiB) gets a 400 in plain text.",
        "content": {**_json_content(_PROBLEM_REF, PROBLEM_TYPE), **_PARSER_ERROR}}
    if security is not None:
        document["security"] = security
    return document


def build_document(app: web.Application, *, title: str = "linkarchive",
                   version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described route registered on ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        described = operation_of(route.handler)
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        if described is None or path is None or route.method == "HEAD":
            continue
        path = _PATH_PARAMETER.sub(r"{\1}", path)
        paths.setdefault(path, {})[route.method.lower()] = _describe(
            described, path, _security(route.handler))
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Problem": dict(PROBLEM_SCHEMA)},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "query_token": {"type": "apiKey", "in": "query", "name": QUERY_TOKEN_PARAMETER,
                                "description": "The access token, for WebSocket handshakes."},
            },
        },
        "security": [{"bearer": []}],
    }


@public
@operation(summary="This API's OpenAPI 3.1 document", tags=("meta",),
           responses={200: {"type": "object"}})
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])


def setup(app: web.Application, *, title: str = "linkarchive", version: str = "1") -> None:
    """Serve the document; it is built once at startup, when every route is registered."""

    async def build(app: web.Application) -> None:
        app[OPENAPI] = build_document(app, title=title, version=version)

    app.router.add_get(OPENAPI_PATH, openapi_document)
    app.on_startup.append(build)
