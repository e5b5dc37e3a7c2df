"""The app factory: probes, the OpenAPI document, and query validation from the same schemas."""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web
from openapi_spec_validator import validate as validate_openapi

from linkarchive.errors import DatabaseUnavailable, MailboxUnavailable
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import QUERY
from linkarchive.http.openapi import operation
from linkarchive.http.routes import probes
from tests.http.support import Backend, Services, bearer, make_app, serve, token_for

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"

routes = web.RouteTableDef()

LIST_QUERY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["limit"],
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "favorite": {"type": "boolean"},
        "tag": {"type": "array", "items": {"type": "string", "maxLength": 20}},
        "status": {"enum": ["pending", "completed", "failed"]},
    },
}
LINK = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


@routes.get("/api/v1/examples")
@operation(summary="List links", tags=("links",), query=LIST_QUERY,
           responses={200: {"type": "array", "items": LINK}})
async def list_links(request: web.Request) -> web.Response:
    return json_response(request[QUERY])


@routes.get("/api/v1/examples/{id}")
@operation(summary="One link", tags=("links",), responses={200: LINK})
async def get_link(request: web.Request) -> web.Response:
    return json_response({"id": request.match_info["id"]})


async def test_healthz_answers_while_the_process_lives() -> None:
    services = Services(database=Backend(DatabaseUnavailable()))
    async with serve(make_app(services=services)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
    assert services.database.pings == 0


async def test_readyz_pings_the_database_and_the_mailbox() -> None:
    services = Services()
    async with serve(make_app(services=services)) as client:
        response = await client.get("/readyz")
        assert response.status == 200
        assert await response.json() == {"status": "ready",
                                          "checks": {"database": "ok", "mailbox": "ok"}}
    assert services.database.pings == services.mailbox.pings == 1


@pytest.mark.parametrize(("services", "detail"), [
    (Services(database=Backend(DatabaseUnavailable("conn refused 10.1.2.3"))),
     "The database cannot be reached right now."),
    (Services(mailbox=Backend(MailboxUnavailable())),
     "The mailbox backend cannot be reached right now."),
    (Services(database=None), "The database cannot be reached right now."),  # type: ignore[arg-type]
])
async def test_readyz_is_a_503_problem_when_a_backend_is_down(services, detail) -> None:
    async with serve(make_app(services=services)) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        body = await response.json(content_type=PROBLEM)
    assert body["detail"] == detail
    assert "10.1.2.3" not in str(body)


async def test_readyz_gives_up_on_a_backend_that_hangs(monkeypatch) -> None:
    class Hanging:
        async def ping(self) -> None:
            await anyio.sleep_forever()

    monkeypatch.setattr(probes, "PING_TIMEOUT", 0.2)
    async with serve(make_app(services=Services(mailbox=Hanging()))) as client:  # type: ignore[arg-type]
        with anyio.fail_after(5):
            response = await client.get("/readyz")
        assert response.status == 503


async def test_the_openapi_document_is_valid_and_describes_the_routes() -> None:
    async with serve(make_app(routes=routes)) as client:
        response = await client.get("/api/v1/openapi.json")  # public
        assert response.status == 200
        document = await response.json()
    validate_openapi(document)
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert {"/healthz", "/readyz", "/api/v1/events", "/api/v1/openapi.json", "/api/v1/examples",
            "/api/v1/examples/{id}"} <= paths.keys()
    assert paths["/healthz"]["get"]["security"] == []
    assert "security" not in paths["/api/v1/examples"]["get"]  # the document's default: bearer
    assert document["security"] == [{"bearer": []}]
    parameters = {p["name"]: p for p in paths["/api/v1/examples"]["get"]["parameters"]}
    assert parameters["limit"] == {"name": "limit", "in": "query", "required": True,
                                   "schema": LIST_QUERY["properties"]["limit"]}
    assert parameters["tag"]["required"] is False
    assert paths["/api/v1/examples/{id}"]["get"]["parameters"][0]["in"] == "path"
    assert paths["/api/v1/events"]["get"]["security"] == [{"bearer": []}, {"query_token": []}]
    assert document["components"]["securitySchemes"]["query_token"]["name"] == "access_token"
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert paths["/readyz"]["get"]["responses"]["default"]["content"][PROBLEM] == problem[PROBLEM]
    assert paths["/readyz"]["get"]["responses"]["503"]["content"] == problem


async def test_query_parameters_are_converted_and_validated_by_the_documented_schema() -> None:
    app = make_app(routes=routes)
    async with serve(app) as client:
        headers = bearer(token_for(app))
        ok = await client.get("/api/v1/examples?limit=20&favorite=true&tag=a&tag=b&status=failed",
                              headers=headers)
        assert ok.status == 200
        assert await ok.json() == {"limit": 20, "favorite": True, "tag": ["a", "b"],
                                   "status": "failed"}
        bad = await client.get("/api/v1/examples?limit=0&favorite=maybe&status=lost&page=2",
                               headers=headers)
        assert bad.status == 422
        body = await bad.json(content_type=PROBLEM)
        assert {error["parameter"] for error in body["errors"]} == {
            "limit", "favorite", "status", "page"}
        missing = await client.get("/api/v1/examples?limit=abc", headers=headers)
        assert missing.status == 422
        body = await missing.json(content_type=PROBLEM)
        assert body["errors"] == [{"parameter": "limit", "detail": "must be of type integer"}]


def test_a_schema_keyword_the_validator_does_not_enforce_is_refused() -> None:
    with pytest.raises(ValueError, match="oneOf"):
        operation(summary="x", body={"type": "object", "oneOf": [{"required": ["a"]}]})
    with pytest.raises(ValueError, match="unknown type"):
        operation(summary="x", body={"type": "url"})
