"""The embedded blob store: files under a directory, served by the app through signed URLs.

A key is a relative path under the root. The content type is not stored: the key's extension
names it (``content_type_for``) and ``put`` refuses a type that disagrees, so each object is one
file written by one atomic rename, and serving it needs no second read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio.to_thread

from linkarchive.errors import InvalidInput, NotFound, UnavailableError
from linkarchive.storage.blobs.base import BlobStore, validate_key

__all__ = ["FILES_PREFIX", "LocalBlobStore"]

FILES_PREFIX = "/files/"
# Expiry times are rounded up to this step so that the same key keeps the same URL for a while
# and a client's HTTP cache recognises a thumbnail it already has.
_EXPIRY_STEP = 300
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name starts with "." so it can never be a valid key (see validate_key).
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unavailable(action: str, key: str, exc: OSError) -> UnavailableError:
    return UnavailableError(f"the local blob store cannot {action} {key!r}: "
                            f"{exc.strerror or exc}")


class LocalBlobStore(BlobStore):
    """Files under ``root``; URLs are ``{base_url}/files/{key}?expires=…&sig=…`` (HMAC-SHA256)."""

    def __init__(self, root: Path, *, secret: bytes, base_url: str = "") -> None:
        if not secret:
            raise InvalidInput("the local blob store needs a non-empty signing secret")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        # A key of its own, derived from the application secret, so that a file signature can
        # never stand in for any other signature made with the same secret.
        self._signing_key = hmac.new(secret, b"linkarchive blob url v1", hashlib.sha256).digest()

    def path(self, key: str) -> Path:
        """Where the object for ``key`` lives (whether or not it exists)."""
        return self.root / validate_key(key)

    def sign(self, key: str, expires_at: int) -> str:
        """The hex signature of a URL for ``key`` valid until the Unix time ``expires_at``."""
        message = f"{int(expires_at)}\n{validate_key(key)}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def verify(self, key: str, expires: int | str, sig: str) -> bool:
        """Whether ``sig`` signs ``key`` until ``expires`` and that time has not passed."""
        try:
            expires_at = int(expires)
            expected = self.sign(key, expires_at)
        except (TypeError, ValueError):  # InvalidInput is a ValueError too
            return False
        if expires_at < time.time():
            return False
        return hmac.compare_digest(expected.encode(), str(sig).encode())

    async def connect(self) -> None:
        try:
            await anyio.to_thread.run_sync(lambda: self.root.mkdir(parents=True, exist_ok=True))
        except OSError as exc:
            raise _unavailable("create its directory", str(self.root), exc) from exc

    async def ping(self) -> None:
        def writable() -> bool:
            return self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)

        if not await anyio.to_thread.run_sync(writable):
            raise UnavailableError(f"the blob directory {self.root} is missing or not writable")

    async def _put(self, key: str, data: bytes, *, content_type: str, public: bool) -> None:
        # Visibility needs no bookkeeping here: every local object is served through signed
        # URLs only, which is what "private" asks and more than "public" needs.
        try:
            await anyio.to_thread.run_sync(_write_atomically, self.path(key), data)
        except OSError as exc:
            raise _unavailable("write", key, exc) from exc

    async def _get(self, key: str) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self.path(key).read_bytes)
        except _MISSING:
            raise NotFound(f"no blob {key!r}") from None
        except OSError as exc:
            raise _unavailable("read", key, exc) from exc

    async def _exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self.path(key).is_file)

    async def _delete(self, key: str) -> None:
        try:
            await anyio.to_thread.run_sync(self.path(key).unlink)
        except _MISSING:
            pass
        except OSError as exc:
            raise _unavailable("delete", key, exc) from exc

    async def _url(self, key: str, expires: int) -> str:
        expires_at = -(-(int(time.time()) + expires) // _EXPIRY_STEP) * _EXPIRY_STEP
        query = urlencode({"expires": expires_at, "sig": self.sign(key, expires_at)})
        return f"{self.base_url}{FILES_PREFIX}{quote(key, safe='/')}?{query}"
