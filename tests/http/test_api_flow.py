"""Seed 000's flows through ``linkarchive serve`` as a real process: save → pending →
``completed`` over the WebSocket → list → tag filter → search → pull → push with a conflict →
delete → tombstone in pull; and another user never sees any of it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import anyio
import pytest

from tests.conftest import ROOT, free_port, process_env, wait_until
from tests.pipeline.site import Site, SiteThread

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"


def serve_env(tmp_path: Path) -> dict[str, str]:
    return process_env(LINKARCHIVE_DATA_DIR=str(tmp_path / "data"),
                       LINKARCHIVE_FETCH_ALLOW_HOSTS="127.0.0.1",
                       LINKARCHIVE_OPEN_REGISTRATION="true")


async def sign_up(http: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    async with http.post(f"{base}/api/v1/auth/register",
                         json={"email": email, "password": PASSWORD}) as response:
        assert response.status == 201, await response.text()
    async with http.post(f"{base}/api/v1/auth/login",
                         json={"email": email, "password": PASSWORD}) as response:
        assert response.status == 200
        token = (await response.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_the_seed_flows_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with SiteThread(Site()) as site, log.open("wb") as output:
        server = subprocess.Popen(  # noqa: ASYNC220 - a long-lived peer, not awaited output
            [sys.executable, "-m", "linkarchive", "serve", "--port", str(port)],
            env=serve_env(tmp_path), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            await anyio.to_thread.run_sync(lambda: wait_until(
                lambda: _answers(f"{base}/healthz"), timeout=60, what="/healthz"))
            async with aiohttp.ClientSession() as http:
                await _flows(http, base, site.base)
        finally:
            server.send_signal(signal.SIGTERM)
            code = await anyio.to_thread.run_sync(lambda: server.wait(timeout=30))
    assert code == 0, log.read_text()[-3000:]


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


async def _flows(http: aiohttp.ClientSession, base: str, site: str) -> None:
    api = f"{base}/api/v1"
    alice = await sign_up(http, base, "alice@example.com")
    bob = await sign_up(http, base, "bob@example.com")

    # Flow 1: save; the answer is immediate and pending; completion arrives over the socket.
    async with http.ws_connect(f"{api}/events", headers=alice) as socket:
        assert (await socket.receive_json(timeout=10))["type"] == "ready"
        async with http.post(f"{api}/links", headers=alice,
                             json={"url": f"{site}/korean", "note": "저녁 메뉴"}) as response:
            assert response.status == 201
            link = await response.json()
        assert link["status"] == "pending"
        with anyio.fail_after(30):
            while True:
                event = await socket.receive_json()
                if (event["type"] == "link.updated" and event["link"]["id"] == link["id"]
                        and event["link"]["status"] == "completed"):
                    break
    async with http.post(f"{api}/links", headers=alice,
                         json={"url": f"{site}/korean#again"}) as response:
        assert response.status == 200 and (await response.json())["id"] == link["id"]

    # Flow 2: the list shows it completed, with thumbnails that really download.
    async with http.get(f"{api}/links", headers=alice) as response:
        [item] = (await response.json())["items"]
    assert item["status"] == "completed" and item["title"] == "김치찌개 맛있게 끓이는 법"
    async with http.get(item["thumbnail"]["small"]) as picture:
        assert picture.status == 200 and picture.content_type == "image/jpeg"

    # Flow 3: tags and tag filter.
    async with http.patch(f"{api}/links/{link['id']}", headers=alice,
                          json={"tags": ["한식", "저녁"], "version": item["version"]}) as response:
        assert response.status == 200, await response.text()
        edited = await response.json()
    async with http.get(f"{api}/tags/한식/links", headers=alice) as response:
        assert [i["id"] for i in (await response.json())["items"]] == [link["id"]]

    # Flow 4: search finds a Korean substring.
    async with http.get(f"{api}/search", params={"q": "김치찌개"}, headers=alice) as response:
        assert [i["id"] for i in (await response.json())["items"]] == [link["id"]]

    # Flow 5: pull from the start, then push with one applied change and one conflict.
    async with http.get(f"{api}/sync/pull", headers=alice) as response:
        pulled = await response.json()
    assert [i["id"] for i in pulled["links"]] == [link["id"]]
    changes = [
        {"change_id": "c1", "link_id": link["id"], "type": "note_update",
         "content": "내일 저녁", "base_version": edited["version"],
         "timestamp": "2026-11-24T10:00:00Z"},
        {"change_id": "c2", "link_id": link["id"], "type": "title_update",
         "content": "stale", "base_version": edited["version"],
         "timestamp": "2026-11-24T10:00:01Z"},
    ]
    async with http.post(f"{api}/sync/push", headers=alice, json={"changes": changes}) as r:
        results = {x["change_id"]: x for x in (await r.json())["results"]}
    assert results["c1"]["status"] == "applied"
    assert results["c2"]["status"] == "conflict"
    assert results["c2"]["link"]["note"] == "내일 저녁"

    # Bob sees none of it.
    for method, path in (("GET", f"/links/{link['id']}"), ("DELETE", f"/links/{link['id']}"),
                         ("POST", f"/links/{link['id']}/retry")):
        async with http.request(method, f"{api}{path}", headers=bob) as response:
            assert response.status == 404
    for path in ("/links", "/search?q=김치찌개", "/tags/한식/links"):
        async with http.get(f"{api}{path}", headers=bob) as response:
            assert (await response.json())["items"] == []
    async with http.get(f"{api}/sync/pull", headers=bob) as response:
        assert (await response.json())["links"] == []

    # Flow 6: delete, and the next pull carries the tombstone.
    async with http.delete(f"{api}/links/{link['id']}", headers=alice) as response:
        assert response.status == 204
    async with http.get(f"{api}/sync/pull", params={"since": pulled["cursor"]},
                        headers=alice) as response:
        after = await response.json()
    assert after["deleted"] == [link["id"]] and after["links"] == []
