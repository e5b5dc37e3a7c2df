"""The link pipeline end to end, in process: save → scrape → image ∥ tag → completed,
against a local website, with the real engine, SQLite and the offline tagger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from aiohttp.test_utils import TestServer

from linkarchive.config import load_settings
from linkarchive.engine.actors import open_pipeline
from linkarchive.engine.supervisor import Supervisor
from linkarchive.links.save import retry_link, save_link
from linkarchive.services import Services, open_services
from linkarchive.storage.repositories.links import get_link
from linkarchive.storage.repositories.rows import Link
from linkarchive.storage.repositories.users import create_user
from tests.pipeline.site import Site

pytestmark = pytest.mark.anyio


@dataclass
class Running:
    services: Services
    supervisor: Supervisor
    site: Site
    base: str
    user_id: int


@asynccontextmanager
async def running_pipeline(tmp_path: Path, **env: str) -> AsyncIterator[Running]:
    site = Site()
    async with TestServer(site.app, host="127.0.0.1") as server:
        settings = load_settings(environ={
            "LINKARCHIVE_DATA_DIR": str(tmp_path / "data"),
            "LINKARCHIVE_FETCH_ALLOW_HOSTS": "127.0.0.1",
            "LINKARCHIVE_SCRAPE_CONCURRENCY": "8",
            # One local host serves every page: lift the per-host politeness limit.
            "LINKARCHIVE_FETCH_HOST_RATE": "10000",
            "LINKARCHIVE_FETCH_HOST_BURST": "100",
            **env,
        })
        async with open_services(settings) as services, open_pipeline(services) as specs:
            supervisor = Supervisor(services.mailbox, specs, shutdown_grace=5)
            async with services.database.write() as tx:
                user = await create_user(tx, "reader@example.com", "x")
            async with anyio.create_task_group() as tg:
                await tg.start(supervisor.run)
                yield Running(services, supervisor, site, str(server.make_url("")), user.id)
                supervisor.stop()


async def load(run: Running, link_id: str, user_id: int | None = None) -> Link:
    async with run.services.database.read() as conn:
        return await get_link(conn, user_id or run.user_id, link_id)


async def wait_settled(run: Running, ids: list[str], timeout: float = 60,
                       user_id: int | None = None) -> list[Link]:
    with anyio.fail_after(timeout):
        while True:
            links = [await load(run, i, user_id) for i in ids]
            if all(link.status in ("completed", "failed") for link in links):
                return links
            await anyio.sleep(0.05)


async def test_save_to_completed_with_thumbnails_and_tags(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        link, created = await save_link(run.services, run.user_id, f"{run.base}/article/3",
                                        tags=["to-read"])
        assert created and link.status == "pending"
        [done] = await wait_settled(run, [link.id])
        assert done.status == "completed", done.processing_error
        assert done.title == "Article number 3"
        assert done.site_name == "Example Site"
        assert done.published_at is not None
        variants = {image.variant: image for image in done.images}
        assert set(variants) == {"original", "small", "medium", "large"}
        assert (variants["small"].width, variants["medium"].width,
                variants["large"].width) == (150, 300, 600)
        for image in done.images:
            assert await run.services.blobs.get(image.object_key)
        names = {tag.name for tag in done.tags}
        assert "to-read" in names and any(t.generated for t in done.tags)
        assert not any(t.generated for t in done.tags if t.name == "to-read")


async def test_korean_page_gets_korean_tags_and_search_finds_it(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        link, _ = await save_link(run.services, run.user_id, f"{run.base}/korean")
        [done] = await wait_settled(run, [link.id])
        assert done.status == "completed" and done.lang == "ko"
        generated = [t.name for t in done.tags if t.generated]
        assert any(any("\uac00" <= ch <= "\ud7a3" for ch in name) for name in generated), generated


async def test_image_that_404s_still_completes_without_thumbnail(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        link, _ = await save_link(run.services, run.user_id, f"{run.base}/broken-image")
        [done] = await wait_settled(run, [link.id])
        assert done.status == "completed"
        assert done.images == () and done.tags


async def test_permanent_failure_is_failed_with_reason_then_retry(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        link, _ = await save_link(run.services, run.user_id, f"{run.base}/gone")
        [done] = await wait_settled(run, [link.id])
        assert done.status == "failed" and "404" in done.processing_error
        again = await retry_link(run.services, run.user_id, link.id)
        assert again.status == "pending" and again.retry_count == 1
        [done] = await wait_settled(run, [link.id])
        assert done.status == "failed"
        assert run.site.hits["/gone"] == 2


async def test_transient_failure_retries_then_fails_and_dead_letters(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        link, _ = await save_link(run.services, run.user_id, f"{run.base}/busy")
        [done] = await wait_settled(run, [link.id])
        assert done.status == "failed" and "503" in done.processing_error
        assert run.site.hits["/busy"] == 3  # three attempts (seed 000)
        [dead] = await run.services.mailbox.dead_letters("scrape")
        assert dead.body["link"] == link.id and "503" in dead.reason


async def test_two_users_saving_one_url_share_one_fetch(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        async with run.services.database.write() as tx:
            other = await create_user(tx, "friend@example.com", "x")
        url = f"{run.base}/article/11"
        first, _ = await save_link(run.services, run.user_id, url)
        second, _ = await save_link(run.services, other.id, url)
        await wait_settled(run, [first.id])
        await wait_settled(run, [second.id], user_id=other.id)
        assert run.site.hits["/article/11"] == 1


async def test_two_hundred_links_all_complete_without_duplicates(tmp_path) -> None:
    async with running_pipeline(tmp_path) as run:
        ids = []
        for n in range(200):
            link, created = await save_link(run.services, run.user_id,
                                            f"{run.base}/article/{n}?utm_source=feed")
            assert created
            ids.append(link.id)
        duplicate, created = await save_link(run.services, run.user_id, f"{run.base}/article/0")
        assert not created and duplicate.id == ids[0]
        links = await wait_settled(run, ids, timeout=240)
        assert [link.status for link in links] == ["completed"] * 200
        for link in links:
            assert sorted(i.variant for i in link.images) == ["large", "medium", "original",
                                                             "small"]
            names = [t.name for t in link.tags]
            assert names and len(names) == len(set(names))
        # Seven distinct pictures, each stored once whatever the number of links showing it.
        keys = {i.object_key for link in links for i in link.images}
        assert len(keys) == 7 * 4
        blob_files = [p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file()]
        assert len(blob_files) == 7 * 4
        # ... and each downloaded and thumbnailed once, however many links show it.
        assert [run.site.hits[f"/img/{n}.jpg"] for n in range(7)] == [1] * 7
        for queue in ("scrape", "image", "tag"):
            assert (await run.services.mailbox.stats(queue)).depth == 0


async def test_scrape_that_keeps_crashing_the_worker_fails_the_link(tmp_path) -> None:
    settings = load_settings(environ={"LINKARCHIVE_DATA_DIR": str(tmp_path / "data"),
                                      "LINKARCHIVE_VISIBILITY_TIMEOUT": "1"})
    async with open_services(settings) as services:
        async with services.database.write() as tx:
            user = await create_user(tx, "crash@example.com", "x")
        link, _ = await save_link(services, user.id, "http://127.0.0.1:9/never")
        for _ in range(3):  # three workers took it and died without a word
            assert len(await services.mailbox.receive("scrape", timeout=3)) == 1
            await anyio.sleep(1.1)
    async with running_pipeline(tmp_path, LINKARCHIVE_VISIBILITY_TIMEOUT="1") as run:
        [done] = await wait_settled(run, [link.id], user_id=user.id)
        assert done.status == "failed"
        assert "kept failing" in done.processing_error
        assert len(await run.services.mailbox.dead_letters("scrape")) == 1
