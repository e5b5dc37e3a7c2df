"""The links API end to end: real services on a temporary SQLite file, real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.http.api import Api, running_api

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


@pytest.fixture
async def api(tmp_path: Path):
    async with running_api(tmp_path) as api:
        yield api


async def _json(response, status: int):
    assert response.status == status, await response.text()
    return await response.json()


async def test_save_list_tag_search_sync_and_delete(api: Api) -> None:
    client, me = api.client, await api.signup("ada@example.com")

    saved = await client.post("/api/v1/links", headers=me, json={
        "url": "https://Example.com:443/posts/1?utm_source=app#top", "source": "youtube_share",
        "note": "나중에 다시 보기"})
    link = await _json(saved, 201)
    assert saved.headers["Location"] == f"/api/v1/links/{link['id']}"
    assert (link["status"], link["version"], link["url"]) == (
        "pending", 1, "https://example.com/posts/1")
    assert link["thumbnail"] == {"small": None, "medium": None, "large": None}
    assert link["created_at"].endswith("Z") and link["source"] == "youtube_share"
    assert await _json(await client.get(saved.headers["Location"], headers=me), 200) == link

    listed = await _json(await client.get("/api/v1/links", headers=me), 200)
    assert [item["id"] for item in listed["items"]] == [link["id"]]
    assert (listed["page"], listed["limit"], listed["has_more"], listed["next_cursor"]) == (
        1, 20, False, None)

    edited = await _json(await client.patch(f"/api/v1/links/{link['id']}", headers=me, json={
        "tags": ["Python", "  Travel ", "python"], "favorite": True, "version": 1}), 200)
    assert edited["version"] == 2 and edited["favorite"] is True
    assert [(t["name"], t["auto"]) for t in edited["tags"]] == [("python", False),
                                                                 ("travel", False)]

    for path in ("/api/v1/links?tag=Python", "/api/v1/tags/python/links",
                 "/api/v1/links?favorite=true", "/api/v1/links?status=pending"):
        page = await _json(await client.get(path, headers=me), 200)
        assert [item["id"] for item in page["items"]] == [link["id"]], path
    for path in ("/api/v1/links?tag=cooking", "/api/v1/tags/cooking/links",
                 "/api/v1/links?archived=true", "/api/v1/links?status=failed"):
        assert (await _json(await client.get(path, headers=me), 200))["items"] == [], path
    tags = await _json(await client.get("/api/v1/tags", headers=me), 200)
    assert sorted((t["name"], t["count"]) for t in tags["items"]) == [("python", 1),
                                                                      ("travel", 1)]

    for query in ("python", "다시", "example", 'NEAR("x" AND) *'):
        found = await _json(await client.get("/api/v1/search", headers=me,
                                             params={"q": query}), 200)
        expected = [] if query.startswith("NEAR") else [link["id"]]
        assert [item["id"] for item in found["items"]] == expected, query

    pulled = await _json(await client.get("/api/v1/sync/pull", headers=me), 200)
    assert [item["id"] for item in pulled["links"]] == [link["id"]] and pulled["deleted"] == []
    assert isinstance(pulled["cursor"], str) and pulled["sync_timestamp"].endswith("Z")

    pushed = await _json(await client.post("/api/v1/sync/push", headers=me, json={"changes": [
        {"change_id": "c1", "link_id": link["id"], "type": "note_update", "content": "offline",
         "base_version": 1},
        {"change_id": "c2", "link_id": link["id"], "type": "note_update", "content": "offline",
         "base_version": 2},
    ]}), 200)
    conflict, applied = pushed["results"]
    assert (conflict["status"], conflict["link"]["version"]) == ("conflict", 2)
    assert conflict["link"]["note"] == "나중에 다시 보기"
    assert (applied["status"], applied["new_version"], applied["link"]["note"]) == (
        "applied", 3, "offline")

    assert (await client.delete(f"/api/v1/links/{link['id']}", headers=me)).status == 204
    gone = await client.get(f"/api/v1/links/{link['id']}", headers=me)
    assert gone.status == 404 and gone.content_type == PROBLEM
    after = await _json(await client.get("/api/v1/sync/pull", headers=me,
                                          params={"since": pulled["cursor"]}), 200)
    assert after["links"] == [] and after["deleted"] == [link["id"]]
    assert (await _json(await client.get("/api/v1/links", headers=me), 200))["items"] == []
    assert (await _json(await client.get("/api/v1/tags", headers=me), 200))["items"] == []


async def test_a_second_user_never_sees_the_first_users_links(api: Api) -> None:
    client = api.client
    ada, bob = await api.signup("ada@example.com"), await api.signup("bob@example.com")
    link = await _json(await client.post("/api/v1/links", headers=ada, json={
        "url": "https://example.com/secret", "tags": ["secret"], "note": "private words"}), 201)
    path = f"/api/v1/links/{link['id']}"
    for method, url, body in [("GET", path, None), ("PATCH", path, {"note": "x", "version": 1}),
                              ("DELETE", path, None), ("POST", path + "/retry", None)]:
        response = await client.request(method, url, headers=bob, json=body)
        assert response.status == 404, (method, url)
    for url in ("/api/v1/links", "/api/v1/tags/secret/links", "/api/v1/search?q=private"):
        assert (await _json(await client.get(url, headers=bob), 200))["items"] == [], url
    assert (await _json(await client.get("/api/v1/tags", headers=bob), 200))["items"] == []
    pulled = await _json(await client.get("/api/v1/sync/pull", headers=bob), 200)
    assert pulled["links"] == [] and pulled["deleted"] == []
    pushed = await _json(await client.post("/api/v1/sync/push", headers=bob, json={"changes": [
        {"change_id": "b1", "link_id": link["id"], "type": "note_update", "content": "mine"},
    ]}), 200)
    assert pushed["results"][0]["status"] == "rejected"
    # Bob saving the same URL gets a link of his own.
    own = await _json(await client.post("/api/v1/links", headers=bob,
                                        json={"url": "https://example.com/secret"}), 201)
    assert own["id"] != link["id"] and own["note"] is None
    unchanged = await _json(await client.get(path, headers=ada), 200)
    assert unchanged["version"] == 1 and unchanged["note"] == "private words"


async def test_saving_the_same_url_again_answers_the_existing_link(api: Api) -> None:
    me = await api.signup("ada@example.com")
    first = await _json(await api.client.post("/api/v1/links", headers=me, json={
        "url": "https://example.com/a?x=1&utm_medium=social"}), 201)
    again = await api.client.post("/api/v1/links", headers=me, json={
        "url": "HTTPS://EXAMPLE.COM/a?x=1&fbclid=abc#frag", "note": "ignored"})
    existing = await _json(again, 200)
    assert existing["id"] == first["id"] and existing["note"] is None
    assert "Location" not in again.headers


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "https://example.com/" + "a" * 3000,
                                 "javascript:alert(1)", "http://", ""])
async def test_bad_urls_are_422_problems(api: Api, url: str) -> None:
    me = await api.signup("ada@example.com")
    response = await api.client.post("/api/v1/links", headers=me, json={"url": url})
    problem = await _json(response, 422)
    assert response.content_type == PROBLEM and problem["status"] == 422 and problem["detail"]


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400), (b"", 400), (b"[]", 422), (b'{"url": 5}', 422),
    (b'{"url": "https://example.com", "extra": 1}', 422),
    (b'{"url": "https://example.com", "tags": ["123"]}', 422),
])
async def test_malformed_bodies_are_problems(api: Api, body: bytes, status: int) -> None:
    me = await api.signup("ada@example.com")
    response = await api.client.post("/api/v1/links", data=body,
                                     headers={**me, "Content-Type": "application/json"})
    assert response.status == status and response.content_type == PROBLEM


async def test_a_body_over_one_megabyte_is_a_413(api: Api) -> None:
    me = await api.signup("ada@example.com")
    big = b'{"url": "https://example.com", "note": "' + b"x" * (1024 * 1024) + b'"}'
    response = await api.client.post("/api/v1/links", data=io.BytesIO(big),
                                     headers={**me, "Content-Type": "application/json"})
    assert response.status == 413 and response.content_type == PROBLEM


async def _chunks(data: bytes):
    for start in range(0, len(data), 65536):
        yield data[start:start + 65536]


async def test_a_chunked_body_over_one_megabyte_is_a_413(api: Api) -> None:
    me = await api.signup("ada@example.com")
    big = b'{"url": "https://example.com", "note": "' + b"x" * (1100 * 1024) + b'"}'
    response = await api.client.post("/api/v1/links", data=_chunks(big),
                                     headers={**me, "Content-Type": "application/json"})
    assert response.status == 413


@pytest.mark.parametrize("link_id", ["nope", "0" * 31, "G" * 32, "1' OR '1'='1", "%00"])
async def test_malformed_ids_are_404(api: Api, link_id: str) -> None:
    me = await api.signup("ada@example.com")
    for method in ("GET", "DELETE"):
        response = await api.client.request(method, f"/api/v1/links/{link_id}", headers=me)
        assert response.status == 404, (method, link_id)


async def test_an_edit_on_a_stale_version_is_a_409_with_the_current_link(api: Api) -> None:
    client, me = api.client, await api.signup("ada@example.com")
    link = await _json(await client.post("/api/v1/links", headers=me,
                                         json={"url": "https://example.com/v"}), 201)
    path = f"/api/v1/links/{link['id']}"
    await _json(await client.patch(path, headers=me, json={"title": "Mine", "version": 1}), 200)
    stale = await client.patch(path, headers=me, json={"note": "late", "version": 1})
    problem = await _json(stale, 409)
    assert stale.content_type == PROBLEM
    assert (problem["current"]["version"], problem["current"]["title"]) == (2, "Mine")
    assert (await client.delete(path + "?version=1", headers=me)).status == 409
    same = await _json(await client.patch(path, headers=me, json={"version": 2}), 200)
    assert same["version"] == 2
    assert (await client.patch(path, headers=me, json={"version": 1})).status == 409
    assert (await client.delete(path + "?version=2", headers=me)).status == 204


async def test_retry_starts_the_pipeline_again(api: Api) -> None:
    me = await api.signup("ada@example.com")
    link = await _json(await api.client.post("/api/v1/links", headers=me,
                                             json={"url": "https://example.com/r"}), 201)
    retried = await _json(await api.client.post(f"/api/v1/links/{link['id']}/retry",
                                                headers=me), 202)
    assert retried["status"] == "pending" and retried["version"] == 2
    assert (await api.services.mailbox.stats("scrape")).depth == 2
