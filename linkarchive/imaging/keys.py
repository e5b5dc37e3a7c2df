"""Object keys for thumbnails, addressed by the original image's SHA-256 (seed 001's layout).

``thumbnails/original/{hash[:2]}/{hash}.{ext}`` is kept private; ``thumbnails/resized/{name}/
{hash[:2]}/{hash}.{ext}`` is public. The same picture saved from many links is stored once.
"""

from __future__ import annotations

import re

from linkarchive.imaging.thumbnails import SIZES, Thumbnails

__all__ = ["original_key", "thumbnail_keys", "variant_key"]

_HASH = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,5}")


def _name(sha256: str, extension: str) -> str:
    # Both end up in a path: anything but a lowercase hex digest and a short extension could
    # climb out of the prefix or split one image across two keys.
    if not _HASH.fullmatch(sha256):
        raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"not a file extension: {extension!r}")
    return f"{sha256[:2]}/{sha256}.{extension}"


def original_key(sha256: str, extension: str) -> str:
    """Where the original image with this content hash is kept."""
    return f"thumbnails/original/{_name(sha256, extension)}"


def variant_key(variant: str, sha256: str, extension: str) -> str:
    """Where the ``variant`` (small, medium or large) of the image with this hash is kept."""
    if variant not in SIZES:
        raise ValueError(f"unknown thumbnail variant {variant!r}; expected one of {list(SIZES)}")
    return f"thumbnails/resized/{variant}/{_name(sha256, extension)}"


def thumbnail_keys(thumbnails: Thumbnails) -> dict[str, str]:
    """Keys for ``original`` and every variant name of one ``make_thumbnails`` result."""
    original = thumbnails.original
    keys = {"original": original_key(original.sha256, original.extension)}
    for name, variant in thumbnails.variants.items():
        keys[name] = variant_key(name, original.sha256, variant.extension)
    return keys
