"""The scale-out blob store: one S3 or MinIO bucket through aiobotocore, pre-signed GET URLs.

Objects carry their content type and a Cache-Control header naming their visibility. No ACL is
sent: AWS buckets created today refuse ACLs and MinIO ignores them, so making the resized
thumbnails public-read is a bucket policy the operator sets (seed 001).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from linkarchive.errors import NotFound, UnavailableError
from linkarchive.storage.blobs.base import BlobStore, cache_control

__all__ = ["S3BlobStore"]

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_MISSING_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _boundary(action: str, key: str, *, missing_is_not_found: bool = False) -> Iterator[None]:
    """Turn botocore and aiohttp errors into ours, so callers never see a driver exception."""
    try:
        yield
    except ClientError as exc:
        if missing_is_not_found and _code(exc) in _MISSING_CODES:
            raise NotFound(f"no blob {key!r}") from exc
        raise UnavailableError(f"S3 could not {action} {key!r}: {_code(exc) or exc}") from exc
    except (BotoCoreError, aiohttp.ClientError, OSError) as exc:
        raise UnavailableError(f"S3 could not {action} {key!r}: {exc}") from exc


class S3BlobStore(BlobStore):
    """Objects in ``bucket``, created on ``connect()`` when missing; URLs are pre-signed GETs."""

    def __init__(self, *, bucket: str, endpoint_url: str = "", access_key: str = "",
                 secret_key: str = "", region: str = "us-east-1", connect_timeout: float = 5.0,
                 read_timeout: float = 30.0, max_attempts: int = 3) -> None:
        self.bucket = bucket
        self.region = region
        self._client_options: dict[str, Any] = {
            "endpoint_url": endpoint_url or None,
            # Empty credentials fall back to botocore's usual chain (environment, instance role).
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret_key or None,
            "region_name": region,
            "config": AioConfig(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                signature_version="s3v4",
                # Path-style for MinIO and other self-hosted endpoints that have no per-bucket
                # DNS names; AWS picks for itself.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # Checksums only where S3 requires them: several S3-compatible servers reject
                # the CRC headers newer botocore sends by default.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._client: Any = None
        self._stack = AsyncExitStack()

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("S3BlobStore is not connected: use `async with` or connect()")
        return self._client

    async def connect(self) -> None:
        if self._client is not None:
            return
        creator = get_session().create_client("s3", **self._client_options)
        try:
            client = await self._stack.enter_async_context(creator)
            with _boundary("open the bucket", self.bucket):
                await self._ensure_bucket(client)
        except BaseException:
            await self._stack.aclose()
            raise
        self._client = client

    async def _ensure_bucket(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING_BUCKET_CODES:
                raise
        options: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":  # the one region S3 refuses to be told explicitly
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(**options)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":  # another process created it first
                raise

    async def ping(self) -> None:
        with _boundary("reach the bucket", self.bucket):
            await self.client.head_bucket(Bucket=self.bucket)

    async def aclose(self) -> None:
        self._client = None
        await self._stack.aclose()

    async def _put(self, key: str, data: bytes, *, content_type: str, public: bool) -> None:
        with _boundary("write", key):
            await self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                         ContentType=content_type,
                                         CacheControl=cache_control(public=public))

    async def _get(self, key: str) -> bytes:
        with _boundary("read", key, missing_is_not_found=True):
            response = await self.client.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                return await body.read()

    async def _exists(self, key: str) -> bool:
        try:
            with _boundary("look up", key, missing_is_not_found=True):
                await self.client.head_object(Bucket=self.bucket, Key=key)
        except NotFound:
            return False
        return True

    async def _delete(self, key: str) -> None:
        with _boundary("delete", key):
            await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def _url(self, key: str, expires: int) -> str:
        with _boundary("sign a URL for", key):
            return await self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires)
