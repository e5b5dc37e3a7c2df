"""Turning link rows into ``Link`` values with their tags and images, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.rows import Link, StoredImage, placeholders
from linkarchive.storage.repositories.tags import tags_for

__all__ = ["images_for", "load_links"]

IMAGES_FOR_LINKS = (
    "SELECT link_id, variant, bucket, object_key, width, height, bytes, sha256, content_type"
    " FROM stored_images WHERE link_id IN ({ids}) ORDER BY link_id, width")


async def images_for(conn: Connection,
                     link_ids: Sequence[str]) -> dict[str, tuple[StoredImage, ...]]:
    """The stored images of each link, smallest first."""
    if not link_ids:
        return {}
    found: dict[str, list[StoredImage]] = {}
    rows = await conn.fetchall(IMAGES_FOR_LINKS.format(ids=placeholders(len(link_ids))),
                               tuple(link_ids))
    for row in rows:
        found.setdefault(row["link_id"], []).append(StoredImage(
            variant=row["variant"], bucket=row["bucket"], object_key=row["object_key"],
            width=row["width"], height=row["height"], bytes=row["bytes"], sha256=row["sha256"],
            content_type=row["content_type"]))
    return {link_id: tuple(images) for link_id, images in found.items()}


async def load_links(conn: Connection, rows: Sequence[Any]) -> list[Link]:
    """``Link`` values for link rows, in the same order; two queries however many rows."""
    ids = [row["id"] for row in rows]
    tags = await tags_for(conn, ids)
    images = await images_for(conn, ids)
    return [Link.from_row(row, tags.get(row["id"], ()), images.get(row["id"], ()))
            for row in rows]
