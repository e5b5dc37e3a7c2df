"""Blob stores: the local directory (embedded default) or S3/MinIO, behind one contract."""

from __future__ import annotations

from linkarchive.config import Settings
from linkarchive.storage.blobs.base import BlobStore, content_type_for, validate_key
from linkarchive.storage.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore", "content_type_for", "open_blob_store", "validate_key"]


def open_blob_store(settings: Settings, *, secret: bytes, base_url: str = "") -> BlobStore:
    """The configured store, not yet connected: S3 when a bucket is set, else the data directory.

    ``secret`` signs local file URLs and ``base_url`` prefixes them; S3 signs its own.
    """
    storage = settings.storage
    if not storage.s3_bucket:
        return LocalBlobStore(storage.data_dir / "blobs", secret=secret, base_url=base_url)
    # Imported here so that the embedded default never loads aiobotocore.
    from linkarchive.storage.blobs.s3 import S3BlobStore

    return S3BlobStore(bucket=storage.s3_bucket, endpoint_url=storage.s3_endpoint_url,
                       access_key=storage.s3_access_key, secret_key=storage.s3_secret_key,
                       region=storage.s3_region)
