"""``/api/v1/links``: save, list, read, edit (with a version check), delete and retry links.

List pages are cached for a minute under the user's cache generation, which every change to
their links bumps (``announce``, the pipeline), so a cached page is never older than the
user's last change; the thumbnail URLs inside are signed to outlive the entry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from linkarchive.http.jsonio import JSON_TYPE, dumps, json_response
from linkarchive.http.keys import BODY, QUERY
from linkarchive.http.openapi import operation
from linkarchive.http.problems import StaleVersion
from linkarchive.http.routes.common import (
    MAX_NOTE,
    MAX_TITLE,
    MAX_VERSION,
    TAGS_SCHEMA,
    check_link_id,
    clean_tags,
    nullable_text,
    services_of,
    text,
    user_id_of,
)
from linkarchive.http.routes.serialize import LINK_SCHEMA, PAGE_SCHEMA, link_json, links_json
from linkarchive.links.events import announce
from linkarchive.links.save import delete_link, retry_link, save_link
from linkarchive.storage.cache import user_key
from linkarchive.storage.repositories import links as links_repo
from linkarchive.storage.repositories.listing import (
    MAX_LIMIT,
    LinkFilter,
    decode_cursor,
    list_links,
)
from linkarchive.storage.repositories.rows import LINK_STATUSES, VersionConflict
from linkarchive.tagging.normalize import normalize_tag

__all__ = ["DEFAULT_LIMIT", "LIST_TTL", "PAGE_QUERY", "list_page", "setup"]

LIST_TTL = 60.0
DEFAULT_LIMIT = 20
MAX_PAGE = 100_000

PAGE_QUERY: dict[str, Any] = {
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}
LIST_QUERY = {"type": "object", "additionalProperties": False, "properties": {
    **PAGE_QUERY,
    "cursor": text(512, description="`next_cursor` of the previous page; overrides `page`."),
    "tag": text(200),
    "status": {"enum": list(LINK_STATUSES)},
    "favorite": {"type": "boolean"},
    "archived": {"type": "boolean"},
}}
LINK_IN = {
    "type": "object", "additionalProperties": False, "required": ["url"],
    "properties": {
        "url": text(8192, minLength=1, description="http or https, at most 2048 characters."),
        "source": nullable_text(64, description="Where it was shared from, e.g. youtube_share."),
        "note": nullable_text(MAX_NOTE),
        "tags": TAGS_SCHEMA,
    },
}
LINK_EDIT = {
    "type": "object", "additionalProperties": False, "required": ["version"],
    "properties": {
        "title": nullable_text(MAX_TITLE),
        "note": nullable_text(MAX_NOTE),
        "tags": {**TAGS_SCHEMA, "description": "Replaces the link's tags."},
        "favorite": {"type": "boolean"},
        "archived": {"type": "boolean"},
        "version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
                    "description": "The version the edit is based on; 409 when it is stale."},
    },
}
DELETE_QUERY = {"type": "object", "additionalProperties": False, "properties": {
    "version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
                "description": "Delete only if the link is still at this version."},
}}


async def list_page(request: web.Request, filters: LinkFilter) -> web.Response:
    """One cached page of the user's links, by ``page``/``limit`` or ``cursor`` in the query."""
    services = services_of(request)
    user_id = user_id_of(request)
    query = request[QUERY]
    cursor = query.get("cursor") or None
    page, limit = query.get("page", 1), query.get("limit", DEFAULT_LIMIT)
    if cursor is not None:
        decode_cursor(cursor)  # a malformed cursor is a 422 even when the page is empty
    if filters.tag is not None:
        tag = normalize_tag(filters.tag)
        if tag is None:  # no stored tag can have this name
            return json_response({"items": [], "next_cursor": None,
                                  "page": None if cursor else page, "limit": limit,
                                  "has_more": False})
        filters = dataclasses.replace(filters, tag=tag)
    # The generation is read before the database: a change committed in between bumps it, and
    # this page, stored under the old one, is never served.
    generation = await services.cache.user_generation(user_id)
    key = user_key(user_id, generation, "links", request.scheme, request.host, filters.tag,
                   filters.status, filters.favorite, filters.archived, page, limit, cursor)
    body = await services.cache.get(key)
    if body is None:
        async with services.database.read() as conn:
            found = await list_links(conn, user_id, filters=filters, limit=limit, page=page,
                                     cursor=cursor)
        body = dumps({"items": await links_json(request, found.items),
                      "next_cursor": found.next_cursor, "page": None if cursor else page,
                      "limit": limit, "has_more": found.has_more})
        await services.cache.set(key, body, LIST_TTL)
    return web.Response(body=body, content_type=JSON_TYPE)


@operation(summary="Save a link", tags=("links",), body=LINK_IN,
           description="201 with the new link (status `pending`; processing continues in the"
                       " background), or 200 with the link already saved for the same URL.",
           responses={200: LINK_SCHEMA, 201: LINK_SCHEMA, 422: None})
async def create_link(request: web.Request) -> web.Response:
    body = request[BODY]
    tags = clean_tags(body.get("tags") or ())
    link, created = await save_link(services_of(request), user_id_of(request), body["url"],
                                    note=body.get("note"), source=body.get("source"), tags=tags)
    if not created:
        return json_response(await link_json(request, link))
    return json_response(await link_json(request, link), status=201,
                         headers={"Location": f"/api/v1/links/{link.id}"})


@operation(summary="List links, newest first", tags=("links",), query=LIST_QUERY,
           responses={200: PAGE_SCHEMA, 422: None})
async def list_all(request: web.Request) -> web.Response:
    query = request[QUERY]
    return await list_page(request, LinkFilter(
        tag=query.get("tag"), status=query.get("status"), favorite=query.get("favorite"),
        archived=query.get("archived")))


@operation(summary="Read a link", tags=("links",), responses={200: LINK_SCHEMA, 404: None})
async def get_one(request: web.Request) -> web.Response:
    link_id = check_link_id(request)
    services = services_of(request)
    async with services.database.read() as conn:
        link = await links_repo.get_link(conn, user_id_of(request), link_id)
    return json_response(await link_json(request, link))


@operation(summary="Edit a link", tags=("links",), body=LINK_EDIT,
           description="Changes the given fields if the link is still at `version`; otherwise"
                       " 409 with the link as it is now in `current`.",
           responses={200: LINK_SCHEMA, 404: None, 409: None, 422: None})
async def edit(request: web.Request) -> web.Response:
    link_id = check_link_id(request)
    services, user_id = services_of(request), user_id_of(request)
    changes = dict(request[BODY])
    version = int(changes.pop("version"))  # JSON may say 2.0; the database wants 2
    if "tags" in changes:
        changes["tags"] = clean_tags(changes["tags"])
    try:
        if not changes:  # nothing to write: still answer whether the version is current
            async with services.database.read() as conn:
                link = await links_repo.get_link(conn, user_id, link_id)
            if link.version != version:
                raise VersionConflict(link)
            return json_response(await link_json(request, link))
        async with services.database.write() as tx:
            link = await links_repo.update_link(tx, user_id, link_id, changes,
                                                expected_version=version)
    except VersionConflict as exc:
        raise StaleVersion(await link_json(request, exc.current)) from None
    await announce(services, link)
    return json_response(await link_json(request, link))


@operation(summary="Delete a link", tags=("links",), query=DELETE_QUERY,
           description="Soft delete: other devices learn of it from `/sync/pull` (`deleted`).",
           responses={204: None, 404: None, 409: None})
async def delete(request: web.Request) -> web.Response:
    link_id = check_link_id(request)
    services, user_id = services_of(request), user_id_of(request)
    try:
        await delete_link(services, user_id, link_id,
                          expected_version=request[QUERY].get("version"))
    except VersionConflict as exc:
        raise StaleVersion(await link_json(request, exc.current)) from None
    return web.Response(status=204)


@operation(summary="Run the pipeline again for a link", tags=("links",),
           responses={202: LINK_SCHEMA, 404: None})
async def retry(request: web.Request) -> web.Response:
    link_id = check_link_id(request)
    link = await retry_link(services_of(request), user_id_of(request), link_id)
    return json_response(await link_json(request, link), status=202)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/links", create_link)
    app.router.add_get("/api/v1/links", list_all)
    app.router.add_get("/api/v1/links/{id}", get_one)
    app.router.add_patch("/api/v1/links/{id}", edit)
    app.router.add_delete("/api/v1/links/{id}", delete)
    app.router.add_post("/api/v1/links/{id}/retry", retry)
