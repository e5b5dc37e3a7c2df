"""``/api/v1/sync``: pull the user's changes after a cursor, push changes made offline.

The cursor is opaque to clients: pass back the ``cursor`` of the previous pull. A seed-style
RFC 3339 ``since`` timestamp is accepted too and means "everything updated after it".
"""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web

from linkarchive.errors import NotFound
from linkarchive.http.jsonio import json_response
from linkarchive.http.keys import BODY, QUERY
from linkarchive.http.openapi import operation
from linkarchive.http.routes.common import (
    MAX_VERSION,
    nullable_text,
    parse_timestamp,
    rfc3339,
    services_of,
    text,
    user_id_of,
)
from linkarchive.http.routes.push import CHANGE_TYPES, Outcome, push_change
from linkarchive.http.routes.serialize import LINK_SCHEMA, link_json, links_json
from linkarchive.links.events import announce
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories import links as links_repo
from linkarchive.storage.repositories.rows import Link
from linkarchive.storage.repositories.sync import MAX_LIMIT, changes_since, cursor_at

__all__ = ["MAX_CHANGES", "setup"]

MAX_CHANGES = 500
DEFAULT_PULL = 500
_CURSOR = re.compile(r"\d{1,18}", re.ASCII)

PULL_QUERY = {"type": "object", "additionalProperties": False, "properties": {
    "since": text(64, description="The `cursor` of the previous pull, or an RFC 3339"
                                  " timestamp; absent means from the start."),
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_PULL},
}}
PULL_SCHEMA = {
    "type": "object",
    "required": ["links", "deleted", "cursor", "has_more", "sync_timestamp"],
    "properties": {
        "links": {"type": "array", "items": LINK_SCHEMA,
                  "description": "Links created or changed, each once, in its latest state."},
        "deleted": {"type": "array", "items": {"type": "string"},
                    "description": "Ids of links deleted since (tombstones)."},
        "cursor": {"type": "string", "description": "Pass as `since` next time."},
        "has_more": {"type": "boolean", "description": "Pull again now with `cursor`."},
        "sync_timestamp": {"type": "string", "format": "date-time",
                           "description": "Server time when this pull began."},
    },
}
CHANGE_SCHEMA = {
    "type": "object", "required": ["change_id", "type"],
    "properties": {
        "change_id": text(128, minLength=1, description="Unique per change: a repeat is"
                                                        " answered, never applied twice."),
        "type": text(64, description=", ".join(CHANGE_TYPES)),
        "link_id": nullable_text(64, description="The link changed; unused by link_create."),
        "client_ref": nullable_text(128, description="The client's own reference (e.g. its"
                                                     " local id), echoed in the result."),
        "content": {"description": "The new value: a string or null for note_update and"
                                   " title_update, a list of names for tags_update, a boolean"
                                   " for favorite_update and archived_update,"
                                   " {url, note?, tags?, source?} for link_create."},
        "base_version": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_VERSION,
                         "description": "The version the change was made on; stale → conflict."},
        "timestamp": nullable_text(64, description="RFC 3339 time the change was made; used"
                                                   " when base_version is absent."),
    },
}
PUSH_IN = {
    "type": "object", "additionalProperties": False, "required": ["changes"],
    "properties": {"changes": {"type": "array", "maxItems": MAX_CHANGES, "items": CHANGE_SCHEMA}},
}
RESULT_SCHEMA = {
    "type": "object", "required": ["change_id", "status", "new_version", "link"],
    "properties": {
        "change_id": {"type": "string"},
        "status": {"enum": ["applied", "conflict", "rejected"]},
        "new_version": {"type": ["integer", "null"]},
        "link": {"anyOf": [LINK_SCHEMA, {"type": "null"}],
                 "description": "The link now: the server copy on a conflict."},
        "reason": {"type": "string"},
        "client_ref": {"type": ["string", "null"]},
    },
}
PUSH_SCHEMA = {"type": "object", "required": ["results"],
               "properties": {"results": {"type": "array", "items": RESULT_SCHEMA}}}


async def _cursor(conn: Connection, user_id: int, since: str | None) -> int:
    if not since:
        return 0
    if _CURSOR.fullmatch(since):
        return int(since)
    return await cursor_at(conn, user_id, parse_timestamp(since, "since"))


@operation(summary="Changes since the last pull", tags=("sync",), query=PULL_QUERY,
           responses={200: PULL_SCHEMA, 422: None})
async def pull(request: web.Request) -> web.Response:
    services, user_id = services_of(request), user_id_of(request)
    query = request[QUERY]
    began = time.time()
    async with services.database.read() as conn:
        cursor = await _cursor(conn, user_id, query.get("since"))
        page = await changes_since(conn, user_id, cursor, limit=query.get("limit", DEFAULT_PULL))
    return json_response({
        "links": await links_json(request, page.links),
        "deleted": [tombstone.id for tombstone in page.deleted],
        "cursor": str(page.next_cursor), "has_more": page.has_more,
        # Microseconds: a client sending it back as ``since`` gets fewer repeats.
        "sync_timestamp": rfc3339(began, timespec="microseconds"),
    })


async def _result(request: web.Request, change: dict[str, Any], outcome: Outcome
                  ) -> dict[str, Any]:
    link = outcome.link
    if outcome.replayed and outcome.link_id is not None:  # the link as it is now, if it is
        try:
            async with services_of(request).database.read() as conn:
                link = await links_repo.get_link(conn, user_id_of(request), outcome.link_id)
        except NotFound:
            link = None
    result: dict[str, Any] = {"change_id": change["change_id"], "status": outcome.status,
                              "new_version": outcome.new_version,
                              "link": None if link is None else await link_json(request, link)}
    if outcome.reason is not None:
        result["reason"] = outcome.reason
    if change.get("client_ref") is not None:
        result["client_ref"] = change["client_ref"]
    return result


@operation(summary="Apply changes made offline", tags=("sync",), body=PUSH_IN,
           description=f"At most {MAX_CHANGES} changes, applied in order, each at most once per"
                       " change_id. Each is `applied` (with its new version), `conflict` (with"
                       " the server copy) or `rejected` (with a reason); one bad change does"
                       " not stop the others.",
           responses={200: PUSH_SCHEMA, 422: None})
async def push(request: web.Request) -> web.Response:
    services, user_id = services_of(request), user_id_of(request)
    results = []
    changed: dict[str, Link] = {}
    for change in request[BODY]["changes"]:
        outcome = await push_change(services, user_id, change)
        if outcome.announce is not None:
            changed[outcome.announce.id] = outcome.announce
        results.append(await _result(request, change, outcome))
    for link in changed.values():
        await announce(services, link)
    return json_response({"results": results})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/sync/pull", pull)
    app.router.add_post("/api/v1/sync/push", push)
