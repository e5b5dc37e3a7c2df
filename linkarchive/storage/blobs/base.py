"""The blob store contract: named byte objects (thumbnails, original images) and URLs to them.

Keys follow the bucket layout of seed 001: ``thumbnails/original/…`` for private originals and
``thumbnails/resized/{small,medium,large}/…`` for the public sizes. Every key is checked here,
once, before a backend sees it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from types import MappingProxyType
from typing import Self

from linkarchive.errors import InvalidInput

__all__ = [
    "CONTENT_TYPES",
    "MAX_KEY_LENGTH",
    "MAX_URL_EXPIRES",
    "BlobStore",
    "cache_control",
    "content_type_for",
    "validate_key",
]

MAX_KEY_LENGTH = 512
MAX_URL_EXPIRES = 7 * 86400  # what S3 allows for a pre-signed URL; the local store follows suit
IMMUTABLE_MAX_AGE = 365 * 86400

# Each segment starts with a letter or digit: no "..", no ".", no hidden or temporary names,
# and nothing a file system, a shell or a URL would read differently.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# A fixed table rather than the mimetypes module: what a key is served as must not depend on the
# host's /etc/mime.types. SVG and HTML are left out on purpose (scriptable when served inline).
CONTENT_TYPES = MappingProxyType({
    "avif": "image/avif",
    "bin": "application/octet-stream",
    "gif": "image/gif",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "json": "application/json",
    "png": "image/png",
    "webp": "image/webp",
})


def validate_key(key: str) -> str:
    """Answer ``key`` when it is a safe relative object key; raise InvalidInput otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidInput("a blob key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"blob key is longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key:
        raise InvalidInput(f"blob key {key!r} must be relative and use '/' as separator")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"blob key {key!r}: each '/'-separated part must be ASCII letters, digits, "
                "'.', '_' or '-', starting with a letter or digit (no '..', no empty parts)")
    return key


def content_type_for(key: str) -> str:
    """The content type a key is served with, named by its extension."""
    _, dot, extension = key.rpartition("/")[2].rpartition(".")
    content_type = CONTENT_TYPES.get(extension.lower()) if dot else None
    if content_type is None:
        raise InvalidInput(f"blob key {key!r} needs one of the extensions "
                           f"{', '.join(sorted(CONTENT_TYPES))}")
    return content_type


def cache_control(*, public: bool) -> str:
    """Cache-Control for a served object; keys name immutable content, so caching is long."""
    scope = "public" if public else "private"
    return f"{scope}, max-age={IMMUTABLE_MAX_AGE}, immutable"


class BlobStore(ABC):
    """Named byte objects with URLs that a client can fetch without other credentials.

    What callers may rely on:

    - **Keys** are relative ``/``-separated ASCII paths (see ``validate_key``) ending in an
      extension that names the content type (``content_type_for``); anything else raises
      InvalidInput (also a ValueError) before any I/O.
    - **put is idempotent and atomic:** putting a key again replaces the object whole; a reader
      sees the old bytes or the new, never a mix. Keys should name immutable content (the image
      pipeline uses content hashes), which is why served objects carry long cache headers.
    - **public** objects may be cached by shared caches and exposed by an operator's bucket
      policy (seed 001: resized thumbnails are public-read); private ones are reachable only
      through ``url()``. Every URL this class hands out is signed either way.
    - **get** raises NotFound for a missing key; **delete** of a missing key is not an error.
    - **url** needs no I/O on the object: it answers a signed GET URL valid for at least
      ``expires`` seconds (at most ``MAX_URL_EXPIRES``), whether or not the key exists; fetching
      it for a missing key answers 404.
    - A backend that cannot be reached raises UnavailableError; callers back off and retry.
    """

    async def put(self, key: str, data: bytes, *, content_type: str, public: bool) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        expected = content_type_for(validate_key(key))
        if content_type.split(";")[0].strip().lower() != expected:
            raise InvalidInput(f"blob key {key!r} holds {expected}, not {content_type}")
        await self._put(key, bytes(data), content_type=expected, public=public)

    async def get(self, key: str) -> bytes:
        """The object's bytes; NotFound when there is none."""
        return await self._get(validate_key(key))

    async def exists(self, key: str) -> bool:
        return await self._exists(validate_key(key))

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is fine."""
        await self._delete(validate_key(key))

    async def url(self, key: str, *, expires: int = 3600) -> str:
        """A URL a client can GET for ``expires`` seconds without other credentials."""
        if not 1 <= expires <= MAX_URL_EXPIRES:
            raise InvalidInput(f"URL lifetime must be 1 to {MAX_URL_EXPIRES} seconds")
        return await self._url(validate_key(key), expires)

    async def connect(self) -> None:  # noqa: B027 (a no-op unless the backend needs one)
        """Prepare the backend (create the directory or bucket); UnavailableError if it can't."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise UnavailableError when the backend cannot be reached."""

    async def aclose(self) -> None:  # noqa: B027 (a no-op unless the backend holds connections)
        """Release connections; the store is unusable afterwards."""

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- backend primitives: keys are validated, content types normalised ----------------------

    @abstractmethod
    async def _put(self, key: str, data: bytes, *, content_type: str, public: bool) -> None: ...

    @abstractmethod
    async def _get(self, key: str) -> bytes: ...

    @abstractmethod
    async def _exists(self, key: str) -> bool: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abstractmethod
    async def _url(self, key: str, expires: int) -> str: ...
