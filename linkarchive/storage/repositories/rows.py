"""The frozen rows repositories return, and the small helpers every repository shares."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from linkarchive.errors import Conflict

__all__ = [
    "LINK_COLUMNS",
    "LINK_STATUSES",
    "IMAGE_VARIANTS",
    "Link",
    "LinkPage",
    "LinkTag",
    "SearchPage",
    "Session",
    "StoredImage",
    "SyncPage",
    "TagCount",
    "Tombstone",
    "User",
    "VersionConflict",
    "new_id",
    "placeholders",
]

LINK_STATUSES = ("pending", "scraping", "scraped", "completed", "failed")
IMAGE_VARIANTS = ("original", "small", "medium", "large")

LINK_COLUMNS = (
    "id, user_id, url, url_hash, canonical_url, title, description, author, site_name, lang,"
    " published_at, kind, image_url, favicon_url, mood, difficulty, note, source, favorite,"
    " archived, status, processing_error, retry_count, version, created_at, updated_at,"
    " deleted_at, change_seq")


def new_id() -> str:
    """A time-ordered opaque id: a UUIDv7 as 32 hex digits (sorts by creation millisecond)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 \
        | 0b10 << 62 | rand & (2**62 - 1)
    return f"{value:032x}"


def placeholders(count: int) -> str:
    """``?, ?, …`` for an ``IN (…)`` list of ``count`` values."""
    return ", ".join("?" * count)


@dataclass(frozen=True, kw_only=True)
class User:
    id: int
    email: str
    password_hash: str = field(repr=False)
    is_admin: bool
    disabled: bool
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(id=row["id"], email=row["email"], password_hash=row["password_hash"],
                   is_admin=bool(row["is_admin"]), disabled=bool(row["disabled"]),
                   created_at=row["created_at"], updated_at=row["updated_at"])


@dataclass(frozen=True, kw_only=True)
class Session:
    """A login session; its refresh tokens rotate, revoking it ends them all."""

    id: str
    user_id: int
    created_at: float
    revoked_at: float | None
    revoke_reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> Session:
        return cls(id=row["id"], user_id=row["user_id"], created_at=row["created_at"],
                   revoked_at=row["revoked_at"], revoke_reason=row["revoke_reason"])


@dataclass(frozen=True, kw_only=True)
class LinkTag:
    """A tag on a link; ``generated`` ones came from the tagger, the rest from the user."""

    name: str
    kind: str
    generated: bool
    confidence: float | None


@dataclass(frozen=True, kw_only=True)
class StoredImage:
    """One stored picture of a link: the private original or a public thumbnail variant."""

    variant: str
    bucket: str
    object_key: str
    width: int
    height: int
    bytes: int
    sha256: str
    content_type: str


@dataclass(frozen=True, kw_only=True)
class Link:
    id: str
    user_id: int
    url: str
    url_hash: str
    canonical_url: str | None
    title: str | None
    description: str | None
    author: str | None
    site_name: str | None
    lang: str | None
    published_at: float | None
    kind: str | None
    image_url: str | None
    favicon_url: str | None
    mood: str | None
    difficulty: str | None
    note: str | None
    source: str | None
    favorite: bool
    archived: bool
    status: str
    processing_error: str | None
    retry_count: int
    version: int
    created_at: float
    updated_at: float
    deleted_at: float | None
    change_seq: int
    tags: tuple[LinkTag, ...] = ()
    images: tuple[StoredImage, ...] = ()

    @classmethod
    def from_row(cls, row: Any, tags: Sequence[LinkTag] = (),
                 images: Sequence[StoredImage] = ()) -> Link:
        values = {name: row[name] for name in _LINK_FIELDS}
        values["favorite"] = bool(values["favorite"])
        values["archived"] = bool(values["archived"])
        return cls(**values, tags=tuple(tags), images=tuple(images))

    def image(self, variant: str) -> StoredImage | None:
        """The stored image of one variant, if there is one."""
        return next((image for image in self.images if image.variant == variant), None)


_LINK_FIELDS = tuple(name.strip() for name in LINK_COLUMNS.split(","))


@dataclass(frozen=True, kw_only=True)
class Tombstone:
    """What sync tells a client about a deleted link."""

    id: str
    version: int
    deleted_at: float
    change_seq: int


@dataclass(frozen=True, kw_only=True)
class TagCount:
    name: str
    kind: str
    count: int


@dataclass(frozen=True, kw_only=True)
class LinkPage:
    """One page of a list; pass ``next_cursor`` back for the next one (None at the end)."""

    items: tuple[Link, ...]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True, kw_only=True)
class SearchPage:
    items: tuple[Link, ...]
    has_more: bool


@dataclass(frozen=True, kw_only=True)
class SyncPage:
    """Changes after a cursor in commit order; pull again with ``next_cursor`` while
    ``has_more``."""

    links: tuple[Link, ...]
    deleted: tuple[Tombstone, ...]
    next_cursor: int
    has_more: bool


class VersionConflict(Conflict):
    """The link changed since the version the edit was based on."""

    def __init__(self, current: Link) -> None:
        super().__init__(f"link {current.id} is at version {current.version}")
        self.current = current
