"""Sync pull and push end to end, over real services and HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.http.api import Api, running_api

pytestmark = pytest.mark.anyio

PULL, PUSH = "/api/v1/sync/pull", "/api/v1/sync/push"


@pytest.fixture
async def api(tmp_path: Path):
    async with running_api(tmp_path) as api:
        yield api


async def _json(response, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def _link(api: Api, me: dict[str, str], path: str) -> dict[str, Any]:
    return await _json(await api.client.post("/api/v1/links", headers=me,
                                             json={"url": f"https://example.com/{path}"}), 201)


async def _push(api: Api, me: dict[str, str], *changes: dict[str, Any]) -> list[dict[str, Any]]:
    body = await _json(await api.client.post(PUSH, headers=me, json={"changes": list(changes)}))
    assert [r["change_id"] for r in body["results"]] == [c["change_id"] for c in changes]
    return body["results"]


async def test_pull_pages_through_changes_with_the_cursor(api: Api) -> None:
    me = await api.signup("ada@example.com")
    ids = [(await _link(api, me, str(n)))["id"] for n in range(5)]
    seen, since, pulls = [], None, 0
    while True:
        params = {"limit": 2, **({"since": since} if since is not None else {})}
        page = await _json(await api.client.get(PULL, headers=me, params=params))
        seen += [link["id"] for link in page["links"]]
        since, pulls = page["cursor"], pulls + 1
        if not page["has_more"]:
            break
    assert seen == ids and pulls == 3
    empty = await _json(await api.client.get(PULL, headers=me, params={"since": since}))
    assert (empty["links"], empty["deleted"], empty["cursor"]) == ([], [], since)

    await _json(await api.client.patch(f"/api/v1/links/{ids[1]}", headers=me,
                                       json={"note": "edited", "version": 1}))
    assert (await api.client.delete(f"/api/v1/links/{ids[3]}", headers=me)).status == 204
    later = await _json(await api.client.get(PULL, headers=me, params={"since": since}))
    assert [link["id"] for link in later["links"]] == [ids[1]]
    assert later["links"][0]["note"] == "edited" and later["deleted"] == [ids[3]]


async def test_pull_accepts_a_seed_style_timestamp(api: Api) -> None:
    me = await api.signup("ada@example.com")
    old = await _link(api, me, "old")
    first = await _json(await api.client.get(PULL, headers=me))
    new = await _link(api, me, "new")
    since = first["sync_timestamp"]
    after = await _json(await api.client.get(PULL, headers=me, params={"since": since}))
    assert [link["id"] for link in after["links"]] == [new["id"]]
    everything = await _json(await api.client.get(
        PULL, headers=me, params={"since": "2000-01-01T00:00:00+09:00"}))
    assert [link["id"] for link in everything["links"]] == [old["id"], new["id"]]
    for bad in ("yesterday", "2025-10-05", "2025-10-05T09:00:00", "-1"):
        response = await api.client.get(PULL, headers=me, params={"since": bad})
        assert response.status == 422, bad


async def test_every_change_type_applies(api: Api) -> None:
    me = await api.signup("ada@example.com")
    link = await _link(api, me, "a")
    lid = link["id"]
    results = await _push(
        api, me,
        {"change_id": "1", "link_id": lid, "type": "note_update", "content": "메모",
         "base_version": 1},
        {"change_id": "2", "link_id": lid, "type": "title_update", "content": "Title"},
        {"change_id": "3", "link_id": lid, "type": "tags_update", "content": ["Tech", "요리"]},
        {"change_id": "4", "link_id": lid, "type": "favorite_update", "content": True},
        {"change_id": "5", "link_id": lid, "type": "archived_update", "content": True,
         "base_version": 5},
        {"change_id": "6", "type": "link_create", "client_ref": "local-1",
         "content": {"url": "https://example.com/b?utm_source=x", "note": "new",
                     "tags": ["Later"]}},
    )
    assert [r["status"] for r in results] == ["applied"] * 6
    assert [r["new_version"] for r in results[:5]] == [2, 3, 4, 5, 6]
    final = results[4]["link"]
    assert (final["note"], final["title"], final["favorite"], final["archived"]) == (
        "메모", "Title", True, True)
    assert [t["name"] for t in final["tags"]] == ["tech", "요리"]
    created = results[5]
    assert created["client_ref"] == "local-1" and created["link"]["status"] == "pending"
    assert created["link"]["url"] == "https://example.com/b"
    listed = await _json(await api.client.get("/api/v1/links", headers=me))
    assert [item["id"] for item in listed["items"]] == [created["link"]["id"], lid]
    [delete] = await _push(api, me, {"change_id": "7", "link_id": lid, "type": "link_delete",
                                     "base_version": 6})
    assert (delete["status"], delete["new_version"], delete["link"]) == ("applied", 7, None)
    assert (await api.client.get(f"/api/v1/links/{lid}", headers=me)).status == 404


async def test_a_repeated_change_id_is_answered_not_applied_again(api: Api) -> None:
    me = await api.signup("ada@example.com")
    link = await _link(api, me, "a")
    change = {"change_id": "once", "link_id": link["id"], "type": "note_update",
              "content": "hello", "base_version": 1}
    create = {"change_id": "make", "type": "link_create", "content": {"url": "https://x.org"}}
    first = await _push(api, me, change, create)
    again = await _push(api, me, change, create, change)
    assert [r["status"] for r in first] == ["applied", "applied"]
    assert [r["status"] for r in again] == ["applied"] * 3
    assert again[0]["new_version"] == again[2]["new_version"] == 2
    assert again[1]["link"]["id"] == first[1]["link"]["id"]
    current = await _json(await api.client.get(f"/api/v1/links/{link['id']}", headers=me))
    assert current["version"] == 2
    pulled = await _json(await api.client.get(PULL, headers=me))
    assert len(pulled["links"]) == 2


async def test_conflicts_carry_the_server_copy(api: Api) -> None:
    me = await api.signup("ada@example.com")
    link = await _link(api, me, "a")
    lid = link["id"]
    await _push(api, me, {"change_id": "web", "link_id": lid, "type": "title_update",
                          "content": "Server title", "base_version": 1})
    stale, early, late, delete = await _push(
        api, me,
        {"change_id": "s", "link_id": lid, "type": "note_update", "content": "x",
         "base_version": 1},
        {"change_id": "t1", "link_id": lid, "type": "note_update", "content": "x",
         "timestamp": "2000-01-01T00:00:00Z"},
        {"change_id": "t2", "link_id": lid, "type": "note_update", "content": "late",
         "timestamp": "2999-01-01T00:00:00Z"},
        {"change_id": "d", "link_id": lid, "type": "link_delete", "base_version": 2},
    )
    for result in (stale, early):
        assert result["status"] == "conflict" and result["new_version"] is None
        assert (result["link"]["version"], result["link"]["title"]) == (2, "Server title")
    assert (late["status"], late["new_version"], late["link"]["note"]) == ("applied", 3, "late")
    assert delete["status"] == "conflict" and delete["link"]["version"] == 3


async def test_bad_changes_are_rejected_one_by_one(api: Api) -> None:
    me = await api.signup("ada@example.com")
    lid = (await _link(api, me, "a"))["id"]
    missing = "0" * 32
    results = await _push(
        api, me,
        {"change_id": "a", "link_id": lid, "type": "rename"},
        {"change_id": "b", "link_id": lid, "type": "favorite_update", "content": "yes"},
        {"change_id": "c", "link_id": lid, "type": "tags_update", "content": ["ok", 5]},
        {"change_id": "d", "link_id": lid, "type": "tags_update", "content": ["2024"]},
        {"change_id": "e", "link_id": missing, "type": "note_update", "content": "x"},
        {"change_id": "f", "link_id": None, "type": "note_update", "content": "x"},
        {"change_id": "g", "type": "link_create", "content": {"url": "ftp://x"}},
        {"change_id": "h", "type": "link_create", "content": "https://example.com"},
        {"change_id": "i", "link_id": lid, "type": "note_update", "content": "x",
         "timestamp": "soon"},
        {"change_id": "j", "link_id": lid, "type": "note_update", "content": "fine"},
    )
    assert [r["status"] for r in results] == ["rejected"] * 9 + ["applied"]
    assert all(r["reason"] for r in results[:9]) and results[9]["new_version"] == 2


@pytest.mark.parametrize("body", [
    {"changes": [{"change_id": str(n), "type": "note_update"} for n in range(501)]},
    {"changes": [{"type": "note_update"}]}, {"changes": "all"}, {},
])
async def test_a_malformed_batch_is_a_422(api: Api, body: dict[str, Any]) -> None:
    me = await api.signup("ada@example.com")
    response = await api.client.post(PUSH, headers=me, json=body)
    assert response.status == 422 and response.content_type == "application/problem+json"
