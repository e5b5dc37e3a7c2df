"""The blob store contract, run against the local directory store and S3 (a real moto server).

URLs are fetched over real HTTP: the local store's through its file handler in an aiohttp
TestServer, S3's pre-signed URLs straight from moto.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from linkarchive.config import load_settings
from linkarchive.errors import InvalidInput, NotFound, UnavailableError
from linkarchive.http.files import FILES_ROUTE, file_handler
from linkarchive.storage.blobs import BlobStore, LocalBlobStore, open_blob_store
from linkarchive.storage.blobs.s3 import S3BlobStore
from tests.conftest import free_port, wait_until

pytestmark = pytest.mark.anyio

SECRET = b"blob-test-secret"
ORIGINAL = "thumbnails/original/ab/abcdef0123456789.jpg"
SMALL = "thumbnails/resized/small/abcdef0123456789.webp"
BINARY = bytes(range(256)) * 64 + os.urandom(4096)

BAD_KEYS = [
    "", "/etc/passwd", "../secret.jpg", "thumbnails/../../secret.jpg", "thumbnails/./a.jpg",
    "thumbnails//a.jpg", "thumbnails\\a.jpg", "thumbnails/.hidden.jpg", "thumbnails/a.jpg/",
    "thumbnails/썸네일.jpg", "thumbnails/a b.jpg", "thumbnails/a\x00.jpg",
    "thumbnails/" + "a" * 600 + ".jpg",
]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """One moto server for the module; each test gets a bucket of its own."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(port), timeout=30, what="moto server")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Peer:
    """How to open stores of one backend: on the shared location, or on an unreachable one."""

    make: Callable[[], BlobStore]
    make_unreachable: Callable[[], BlobStore]


@pytest.fixture(params=["local", "s3"])
async def peer(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Peer]:
    if request.param == "local":
        port = free_port()
        root = tmp_path / "blobs"
        (tmp_path / "a-file").write_bytes(b"")

        def make() -> LocalBlobStore:
            return LocalBlobStore(root, secret=SECRET, base_url=f"http://127.0.0.1:{port}")

        app = web.Application()
        app.router.add_get(FILES_ROUTE, file_handler(make()))
        async with TestServer(app, host="127.0.0.1", port=port):
            yield Peer(make,
                       lambda: LocalBlobStore(tmp_path / "a-file" / "blobs", secret=SECRET))
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"test-{uuid.uuid4().hex[:12]}"

        def make_s3(url: str, **options: int) -> S3BlobStore:
            return S3BlobStore(bucket=bucket, endpoint_url=url, access_key="test",
                               secret_key="test", region="us-east-1", **options)

        # Nothing listens on the unreachable port; one attempt keeps the test quick.
        yield Peer(lambda: make_s3(endpoint),
                   lambda: make_s3(f"http://127.0.0.1:{free_port()}", max_attempts=1))


@pytest.fixture
async def store(peer: Peer) -> AsyncIterator[BlobStore]:
    async with peer.make() as opened:
        yield opened


async def fetch(url: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, CIMultiDict(response.headers), await response.read()


# -- the contract ------------------------------------------------------------------------------

async def test_round_trip_of_binary_data(store: BlobStore) -> None:
    assert not await store.exists(ORIGINAL)
    await store.put(ORIGINAL, BINARY, content_type="image/jpeg", public=False)
    await store.put(SMALL, b"RIFF-small", content_type="image/webp", public=True)
    assert await store.exists(ORIGINAL) and await store.exists(SMALL)
    assert await store.get(ORIGINAL) == BINARY
    assert await store.get(SMALL) == b"RIFF-small"


async def test_put_again_replaces_the_object(store: BlobStore) -> None:
    await store.put(SMALL, b"first", content_type="image/webp", public=True)
    await store.put(SMALL, b"first", content_type="image/webp", public=True)
    assert await store.get(SMALL) == b"first"
    await store.put(SMALL, b"second, longer than the first", content_type="image/webp",
                    public=True)
    assert await store.get(SMALL) == b"second, longer than the first"


async def test_concurrent_puts_leave_one_whole_object(store: BlobStore) -> None:
    versions = [bytes([n]) * 50_000 for n in range(8)]

    async with anyio.create_task_group() as tg:
        for data in versions:
            tg.start_soon(lambda d=data: store.put(SMALL, d, content_type="image/webp",
                                                   public=True))
    assert await store.get(SMALL) in versions


async def test_missing_key_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound):
        await store.get("thumbnails/original/missing.png")
    assert not await store.exists("thumbnails/original/missing.png")


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put(ORIGINAL, b"x", content_type="image/jpeg", public=False)
    await store.delete(ORIGINAL)
    assert not await store.exists(ORIGINAL)
    with pytest.raises(NotFound):
        await store.get(ORIGINAL)
    await store.delete(ORIGINAL)
    await store.delete("thumbnails/original/never-there.jpg")


async def test_bad_keys_are_rejected_before_any_io(store: BlobStore) -> None:
    async def put(key: str) -> None:
        await store.put(key, b"x", content_type="image/jpeg", public=False)

    for key in BAD_KEYS:
        for call in (put, store.get, store.exists, store.delete, store.url):
            try:
                await call(key)
            except InvalidInput as exc:
                assert isinstance(exc, ValueError)  # for callers that expect a builtin
            else:
                pytest.fail(f"{call.__name__}({key!r}) was accepted")


async def test_content_type_must_match_the_extension(store: BlobStore) -> None:
    with pytest.raises(InvalidInput, match="image/webp"):
        await store.put(SMALL, b"x", content_type="image/png", public=True)
    with pytest.raises(InvalidInput, match="extensions"):
        await store.put("thumbnails/original/no-extension", b"x", content_type="image/png",
                        public=False)
    with pytest.raises(InvalidInput):
        await store.put("thumbnails/original/page.html", b"x", content_type="text/html",
                        public=False)
    await store.put(ORIGINAL, b"x", content_type="IMAGE/JPEG; q=1", public=False)
    assert not await store.exists(SMALL)


async def test_url_serves_the_object_over_http(store: BlobStore) -> None:
    await store.put(ORIGINAL, BINARY, content_type="image/jpeg", public=False)
    await store.put(SMALL, b"RIFF-small", content_type="image/webp", public=True)
    status, headers, body = await fetch(await store.url(ORIGINAL))
    assert (status, body) == (200, BINARY)
    assert headers["Content-Type"] == "image/jpeg"
    assert "private" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]
    status, headers, body = await fetch(await store.url(SMALL, expires=60))
    assert (status, body) == (200, b"RIFF-small")
    assert headers["Content-Type"] == "image/webp"


async def test_url_of_a_missing_object_answers_404(store: BlobStore) -> None:
    status, _, _ = await fetch(await store.url("thumbnails/resized/large/gone.png"))
    assert status == 404


async def test_url_lifetime_is_bounded(store: BlobStore) -> None:
    for expires in (0, -5, 7 * 86400 + 1):
        with pytest.raises(InvalidInput):
            await store.url(SMALL, expires=expires)


async def test_data_outlives_the_store_object(peer: Peer) -> None:
    async with peer.make() as first:
        await first.put(ORIGINAL, BINARY, content_type="image/jpeg", public=False)
        await first.ping()
    async with peer.make() as second:
        assert await second.get(ORIGINAL) == BINARY


async def test_unreachable_backend_raises_unavailable(peer: Peer) -> None:
    started = time.monotonic()
    with pytest.raises(UnavailableError):
        async with peer.make_unreachable():
            pass
    assert time.monotonic() - started < 10


# -- the local store's signed URLs ---------------------------------------------------------------

@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[tuple[LocalBlobStore, TestServer]]:
    port = free_port()
    async with LocalBlobStore(tmp_path, secret=SECRET,
                              base_url=f"http://127.0.0.1:{port}/") as store:
        app = web.Application()
        app.router.add_get(FILES_ROUTE, file_handler(store))
        async with TestServer(app, host="127.0.0.1", port=port) as server:
            await store.put(SMALL, b"RIFF-small", content_type="image/webp", public=True)
            yield store, server


async def _expect_forbidden(url: str) -> None:
    status, headers, body = await fetch(url)
    assert status == 403
    assert headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 403 and problem["title"] == "Forbidden"
    assert set(problem) >= {"type", "title", "status", "detail"}


async def test_local_url_shape_and_stability(local: tuple[LocalBlobStore, TestServer]) -> None:
    store, server = local
    url = await store.url(SMALL)
    assert url.startswith(f"{str(server.make_url('/files/'))}{SMALL}?expires=")
    # Rounded expiry: asking twice in a row hands out the same URL, so clients cache it.
    assert await store.url(SMALL) == url


async def test_local_tampered_signature_is_forbidden(
        local: tuple[LocalBlobStore, TestServer]) -> None:
    store, server = local
    url = await store.url(SMALL)
    head, sig = url.rsplit("sig=", 1)
    await _expect_forbidden(head + "sig=" + ("0" if sig[0] != "0" else "1") + sig[1:])
    await _expect_forbidden(head + "sig=")
    await _expect_forbidden(url.replace("expires=", "expires=1"))
    await _expect_forbidden(str(server.make_url("/files/" + SMALL)))
    # A signature for one key does not open another.
    await store.put(ORIGINAL, b"secret", content_type="image/jpeg", public=False)
    await _expect_forbidden(url.replace(SMALL, ORIGINAL))


async def test_local_expired_signature_is_forbidden(
        local: tuple[LocalBlobStore, TestServer]) -> None:
    store, server = local
    past = int(time.time()) - 1
    assert not store.verify(SMALL, past, store.sign(SMALL, past))
    await _expect_forbidden(str(server.make_url(
        f"/files/{SMALL}?expires={past}&sig={store.sign(SMALL, past)}")))
    future = int(time.time()) + 60
    status, _, body = await fetch(str(server.make_url(
        f"/files/{SMALL}?expires={future}&sig={store.sign(SMALL, future)}")))
    assert (status, body) == (200, b"RIFF-small")


async def test_local_signature_depends_on_the_secret(tmp_path: Path) -> None:
    one = LocalBlobStore(tmp_path, secret=b"one")
    other = LocalBlobStore(tmp_path, secret=b"other")
    expires = int(time.time()) + 60
    assert one.verify(SMALL, expires, one.sign(SMALL, expires))
    assert not other.verify(SMALL, expires, one.sign(SMALL, expires))
    assert not one.verify("../x.jpg", expires, "00")
    assert not one.verify(SMALL, "soon", one.sign(SMALL, expires))
    with pytest.raises(InvalidInput):
        LocalBlobStore(tmp_path, secret=b"")


async def test_local_traversal_never_leaves_the_root(
        local: tuple[LocalBlobStore, TestServer], tmp_path: Path) -> None:
    store, server = local
    (tmp_path.parent / "outside.jpg").write_bytes(b"outside")
    expires = int(time.time()) + 60
    for raw in ("..%2Foutside.jpg", "%2E%2E/outside.jpg", "thumbnails/%2e%2e/%2e%2e/outside.jpg"):
        url = str(server.make_url(f"/files/{raw}")) + f"?expires={expires}&sig=00"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status in (403, 404)
            assert await response.read() != b"outside"


async def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    async with LocalBlobStore(tmp_path, secret=SECRET) as store:
        for n in range(3):
            await store.put(SMALL, bytes([n]) * 10, content_type="image/webp", public=True)
    names = [path.relative_to(tmp_path).as_posix()
             async for path in anyio.Path(tmp_path).rglob("*") if await path.is_file()]
    assert names == [SMALL]


# -- the factory --------------------------------------------------------------------------------

async def test_factory_picks_local_without_a_bucket(tmp_path: Path) -> None:
    settings = load_settings(environ={"LINKARCHIVE_DATA_DIR": str(tmp_path)})
    async with open_blob_store(settings, secret=SECRET) as store:
        assert isinstance(store, LocalBlobStore)
        await store.put(SMALL, b"x", content_type="image/webp", public=True)
        assert store.path(SMALL) == tmp_path / "blobs" / SMALL
        assert (await store.url(SMALL)).startswith(f"/files/{SMALL}?")


async def test_factory_picks_s3_with_a_bucket(tmp_path: Path, s3_endpoint: str) -> None:
    settings = load_settings(environ={
        "LINKARCHIVE_DATA_DIR": str(tmp_path), "LINKARCHIVE_S3_BUCKET": "factory-bucket",
        "LINKARCHIVE_S3_ENDPOINT_URL": s3_endpoint, "LINKARCHIVE_S3_ACCESS_KEY": "test",
        "LINKARCHIVE_S3_SECRET_KEY": "test"})
    async with open_blob_store(settings, secret=SECRET) as store:
        assert isinstance(store, S3BlobStore) and store.bucket == "factory-bucket"
        await store.put(SMALL, b"x", content_type="image/webp", public=True)
        status, _, body = await fetch(await store.url(SMALL))
        assert (status, body) == (200, b"x")
