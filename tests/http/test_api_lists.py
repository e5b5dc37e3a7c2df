"""List pages end to end: paging and cursors, the cache and its invalidation, thumbnails, and
the per-user rate limit, over real services and HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from linkarchive.links.events import announce
from linkarchive.storage.repositories import pipeline as records
from linkarchive.storage.repositories.rows import StoredImage
from linkarchive.tagging.base import Tag
from tests.http.api import Api, running_api

pytestmark = pytest.mark.anyio

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


@pytest.fixture
async def api(tmp_path: Path):
    async with running_api(tmp_path) as api:
        yield api


async def _json(response, status: int = 200):
    assert response.status == status, await response.text()
    return await response.json()


async def _save(api: Api, me: dict[str, str], count: int) -> list[str]:
    ids = []
    for n in range(count):
        link = await _json(await api.client.post("/api/v1/links", headers=me, json={
            "url": f"https://example.com/{n}", "tags": ["even" if n % 2 == 0 else "odd"]}), 201)
        ids.append(link["id"])
    return ids


async def _complete(api: Api, link_id: str) -> None:
    """What the pipeline does for a page with an image: scrape, thumbnails, tags, announce."""
    images = []
    for variant, size in (("small", 150), ("medium", 300), ("large", 600)):
        key = f"thumbnails/resized/{variant}/{link_id}.jpg"
        await api.services.blobs.put(key, JPEG, content_type="image/jpeg", public=True)
        images.append(StoredImage(variant=variant, bucket="local", object_key=key, width=size,
                                  height=size, bytes=len(JPEG), sha256="ab" * 32,
                                  content_type="image/jpeg"))
    async with api.services.database.write() as tx:
        await records.begin_scrape(tx, link_id, run=0)
        await records.save_scraped(tx, link_id, records.ScrapedMetadata(title="Done"), run=0)
        await records.record_images(tx, link_id, images, run=0)
        outcome = await records.save_generated_tags(tx, link_id, [Tag("react", "keyword", 0.9)],
                                                    run=0)
    assert outcome is not None and outcome.completed
    await announce(api.services, outcome.link)


async def test_pages_by_number_and_by_cursor_walk_every_link_once(api: Api) -> None:
    me = await api.signup("ada@example.com")
    ids = list(reversed(await _save(api, me, 7)))  # newest first
    by_page = []
    for page in (1, 2, 3):
        listed = await _json(await api.client.get("/api/v1/links", headers=me,
                                                  params={"page": page, "limit": 3}))
        assert (listed["page"], listed["limit"], listed["has_more"]) == (page, 3, page < 3)
        by_page += [item["id"] for item in listed["items"]]
    assert by_page == ids
    by_cursor, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        listed = await _json(await api.client.get("/api/v1/links", headers=me, params=params))
        by_cursor += [item["id"] for item in listed["items"]]
        cursor = listed["next_cursor"]
        assert listed["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert by_cursor == ids
    odd = await _json(await api.client.get("/api/v1/tags/odd/links", headers=me,
                                           params={"limit": 2}))
    rest = await _json(await api.client.get("/api/v1/tags/odd/links", headers=me,
                                            params={"cursor": odd["next_cursor"]}))
    assert odd["page"] == 1 and rest["page"] is None
    assert [i["id"] for i in odd["items"] + rest["items"]] == [ids[1], ids[3], ids[5]]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "page=0",
                                   "status=done", "favorite=maybe", "cursor=%21%21", "tag=a&=x",
                                   "colour=red"])
async def test_bad_list_parameters_are_422_problems(api: Api, query: str) -> None:
    me = await api.signup("ada@example.com")
    response = await api.client.get(f"/api/v1/links?{query}", headers=me)
    assert response.status == 422 and response.content_type == "application/problem+json"


async def test_cached_pages_follow_the_pipeline_and_edits(api: Api) -> None:
    me = await api.signup("ada@example.com")
    [link_id] = await _save(api, me, 1)
    first = await _json(await api.client.get("/api/v1/links", headers=me))
    assert first["items"][0]["status"] == "pending"
    hits = api.services.cache.stats().hits
    assert await _json(await api.client.get("/api/v1/links", headers=me)) == first
    assert api.services.cache.stats().hits == hits + 1

    await _complete(api, link_id)
    done = (await _json(await api.client.get("/api/v1/links", headers=me)))["items"][0]
    assert (done["status"], done["title"]) == ("completed", "Done")
    assert [(t["name"], t["auto"], t["confidence"]) for t in done["tags"]] == [
        ("even", False, None), ("react", True, 0.9)]
    tags = await _json(await api.client.get("/api/v1/tags", headers=me))
    assert {t["name"] for t in tags["items"]} == {"even", "react"}

    await _json(await api.client.patch(f"/api/v1/links/{link_id}", headers=me,
                                       json={"archived": True, "version": done["version"]}))
    listed = await _json(await api.client.get("/api/v1/links?archived=true", headers=me))
    assert [item["id"] for item in listed["items"]] == [link_id]


async def test_thumbnails_are_signed_urls_this_server_serves(api: Api) -> None:
    me = await api.signup("ada@example.com")
    [link_id] = await _save(api, me, 1)
    await _complete(api, link_id)
    link = await _json(await api.client.get(f"/api/v1/links/{link_id}", headers=me))
    origin = str(api.client.make_url("/")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        for variant in ("small", "medium", "large"):
            url = link["thumbnail"][variant]
            assert url.startswith(f"{origin}/files/thumbnails/resized/{variant}/"), url
            async with session.get(url) as response:  # no token: the signature is the pass
                assert response.status == 200 and await response.read() == JPEG
                assert response.content_type == "image/jpeg"
            async with session.get(url.replace("sig=", "sig=0")) as response:
                assert response.status == 403


async def test_the_per_user_rate_limit_applies_to_the_api(tmp_path: Path) -> None:
    # Sign-ups count against the client address (4 requests), the rest against each user.
    async with running_api(tmp_path, LINKARCHIVE_RATE_LIMIT="5") as api:
        ada, bob = await api.signup("ada@example.com"), await api.signup("bob@example.com")
        statuses = [(await api.client.get("/api/v1/links", headers=ada)).status
                    for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = await api.client.post("/api/v1/links", headers=ada,
                                        json={"url": "https://example.com"})
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
        assert (await api.client.get("/api/v1/search?q=x", headers=bob)).status == 200
