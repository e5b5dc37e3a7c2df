"""Applying one pushed change, at most once per ``change_id``.

An edit claims its ``change_id``, applies and records the result in one transaction, so a
repeat finds the record and is answered from it. ``link_create`` goes through ``save_link``
(its own transaction, with the scrape job) and is recorded afterwards: saving is idempotent
by URL, so a repeat that slips in between answers the same link.

A stale ``base_version`` is a conflict. Without one, the seed's rule applies: a change made
(``timestamp``) before the server's last update of the link conflicts. Without either, the
change applies to whatever version is current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linkarchive.errors import InvalidInput, NotFound
from linkarchive.http.routes.common import (
    MAX_NOTE,
    MAX_TITLE,
    TAGS_SCHEMA,
    clean_tags,
    is_link_id,
    nullable_text,
    parse_timestamp,
)
from linkarchive.http.schema import Schema, validate
from linkarchive.links.save import as_deleted, save_link
from linkarchive.services import Services
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories import links as links_repo
from linkarchive.storage.repositories.rows import Link, VersionConflict
from linkarchive.storage.repositories.sync import applied_change, claim_change, record_change

__all__ = ["CHANGE_TYPES", "Outcome", "push_change"]

# Edit type → (link field, schema of ``content``).
_EDITS: Mapping[str, tuple[str, Schema]] = {
    "note_update": ("note", nullable_text(MAX_NOTE)),
    "title_update": ("title", nullable_text(MAX_TITLE)),
    "tags_update": ("tags", TAGS_SCHEMA),
    "favorite_update": ("favorite", {"type": "boolean"}),
    "archived_update": ("archived", {"type": "boolean"}),
}
_CREATE_CONTENT: Schema = {
    "type": "object", "required": ["url"],
    "properties": {"url": {"type": "string", "maxLength": 8192},
                   "note": nullable_text(MAX_NOTE), "source": nullable_text(64),
                   "tags": TAGS_SCHEMA},
}
CHANGE_TYPES = (*_EDITS, "link_create", "link_delete")


class _Rejected(Exception):
    """The change cannot be applied as sent; the message says why."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What became of one change. ``link`` is the link now (None after a delete or when it is
    gone); ``announce`` is the changed link to tell the user's caches and sockets about."""

    status: str
    new_version: int | None = None
    link_id: str | None = None
    reason: str | None = None
    link: Link | None = None
    announce: Link | None = None
    replayed: bool = False
    """Answered from the record of an earlier push; ``link`` is left to read again."""

    def record(self) -> dict[str, Any]:
        """What is stored to answer a repeat; the link itself is read again then."""
        return {"status": self.status, "new_version": self.new_version,
                "link_id": self.link_id, "reason": self.reason}

    @classmethod
    def from_record(cls, recorded: Mapping[str, Any]) -> Outcome:
        return cls(status=recorded.get("status", "rejected"),
                   new_version=recorded.get("new_version"), link_id=recorded.get("link_id"),
                   reason=recorded.get("reason"), replayed=True)


def _content(schema: Schema, content: Any) -> Any:
    errors = validate(schema, content)
    if errors:
        where = errors[0]["pointer"].removeprefix("#")
        raise _Rejected(f"content{where} {errors[0]['detail']}")
    return content


def _target(change: Mapping[str, Any]) -> str:
    link_id = change.get("link_id")
    if not is_link_id(link_id):
        raise _Rejected("link_id must be the id of one of your links")
    return link_id


async def _expected_version(tx: Connection, user_id: int, link_id: str,
                            change: Mapping[str, Any]) -> int | None:
    """The version the change must find; VersionConflict when its timestamp is stale."""
    if change.get("base_version") is not None:
        return int(change["base_version"])  # JSON may say 2.0; the database wants 2
    if not change.get("timestamp"):
        return None
    try:
        made_at = parse_timestamp(str(change["timestamp"]), "timestamp")
    except InvalidInput as exc:
        raise _Rejected(str(exc)) from None
    current = await links_repo.get_link(tx, user_id, link_id)
    if current.updated_at > made_at:
        raise VersionConflict(current)
    return current.version


async def _apply_edit(tx: Connection, user_id: int, change: Mapping[str, Any]) -> Outcome:
    kind = change["type"]
    if kind != "link_delete" and kind not in _EDITS:
        raise _Rejected(f"unknown change type {str(kind)[:64]!r}; expected one of "
                        + ", ".join(CHANGE_TYPES))
    link_id = _target(change)
    expected = await _expected_version(tx, user_id, link_id, change)
    if kind == "link_delete":
        link = await links_repo.get_link(tx, user_id, link_id)
        gone = await links_repo.delete_link(tx, user_id, link_id, expected_version=expected)
        return Outcome(status="applied", new_version=gone.version, link_id=link_id,
                       announce=as_deleted(link, gone))
    field, schema = _EDITS[kind]
    value = _content(schema, change.get("content"))
    if field == "tags":
        value = clean_tags(value)
    link = await links_repo.update_link(tx, user_id, link_id, {field: value},
                                        expected_version=expected)
    return Outcome(status="applied", new_version=link.version, link_id=link.id, link=link,
                   announce=link)


async def _edit(services: Services, user_id: int, change: Mapping[str, Any]) -> Outcome:
    async with services.database.write() as tx:
        recorded = await claim_change(tx, user_id, change["change_id"])
        if recorded is not None:
            return Outcome.from_record(recorded)
        try:
            outcome = await _apply_edit(tx, user_id, change)
        except VersionConflict as exc:
            outcome = Outcome(status="conflict", link_id=exc.current.id, link=exc.current,
                              reason=f"the link is at version {exc.current.version}")
        except NotFound:
            outcome = Outcome(status="rejected", link_id=change.get("link_id"),
                              reason="there is no such link (deleted, or never yours)")
        except (_Rejected, InvalidInput) as exc:
            outcome = Outcome(status="rejected", reason=str(exc))
        # Nothing was written when the change is not applied; the record alone commits.
        await record_change(tx, user_id, change["change_id"], outcome.record())
    return outcome


async def _create(services: Services, user_id: int, change: Mapping[str, Any]) -> Outcome:
    async with services.database.read() as conn:
        recorded = await applied_change(conn, user_id, change["change_id"])
    if recorded is not None:
        return Outcome.from_record(recorded)
    try:
        content = _content(_CREATE_CONTENT, change.get("content"))
        link, _ = await save_link(services, user_id, content["url"], note=content.get("note"),
                                  source=content.get("source"),
                                  tags=clean_tags(content.get("tags") or ()))
        outcome = Outcome(status="applied", new_version=link.version, link_id=link.id, link=link)
    except (_Rejected, InvalidInput) as exc:
        outcome = Outcome(status="rejected", reason=str(exc))
    async with services.database.write() as tx:
        earlier = await claim_change(tx, user_id, change["change_id"])
        if earlier:  # a concurrent push of the same change recorded it first
            return Outcome.from_record(earlier)
        await record_change(tx, user_id, change["change_id"], outcome.record())
    return outcome


async def push_change(services: Services, user_id: int, change: Mapping[str, Any]) -> Outcome:
    """Apply one change (a schema-valid item of ``changes``) unless its id was seen before."""
    if change["type"] == "link_create":
        return await _create(services, user_id, change)
    return await _edit(services, user_id, change)
