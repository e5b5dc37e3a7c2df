"""The pipeline's writes on both dialects: each takes effect once, stale messages change nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linkarchive.errors import NotFound
from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database

pytestmark = pytest.mark.anyio

PAGE = repo.ScrapedMetadata(title="김치찌개 끓이는 법", description="A stew", author="Cook",
                            site_name="Blog", lang="ko", published_at=1_700_000_000.0,
                            kind="article", image_url="https://example.com/a.jpg")
IMAGES = [repo.StoredImage(variant=variant, bucket="thumbnails",
                           object_key=f"thumbnails/resized/{variant}/ab/ab.jpg", width=size,
                           height=size, bytes=size * 10, sha256="ab" * 32,
                           content_type="image/jpeg")
          for variant, size in (("small", 150), ("medium", 300), ("large", 600))]


@dataclass(frozen=True)
class Suggestion:
    name: str
    kind: str
    confidence: float


async def scraped_link(database: Database, user: repo.User) -> repo.Link:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, "https://example.com/a", "hash-a",
                                           tags=["요리"])
        assert (await repo.begin_scrape(tx, link.id, run=0)).status == "scraping"
        return await repo.save_scraped(tx, link.id, PAGE, run=0)


async def test_scrape_saves_metadata_once(database: Database, user: repo.User) -> None:
    link = await scraped_link(database, user)
    assert (link.status, link.title, link.site_name, link.published_at) == (
        "scraped", PAGE.title, "Blog", PAGE.published_at)
    assert link.version == 3
    async with database.write() as tx:  # the scrape message delivered again
        assert await repo.begin_scrape(tx, link.id, run=0) is None
        assert await repo.save_scraped(tx, link.id, PAGE, run=0) is None
    async with database.read() as conn:
        assert (await repo.get_link(conn, user.id, link.id)).version == 3


async def test_redelivery_mid_scrape_resumes_without_a_change(database: Database,
                                                              user: repo.User) -> None:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, "https://example.com/a", "hash-a")
        first = await repo.begin_scrape(tx, link.id, run=0)
        again = await repo.begin_scrape(tx, link.id, run=0)
    assert first == again and again.version == 2


async def test_a_user_title_survives_scraping(database: Database, user: repo.User) -> None:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, "https://example.com/a", "hash-a")
        await repo.update_link(tx, user.id, link.id, {"title": "Mine"})
        await repo.begin_scrape(tx, link.id, run=0)
        scraped = await repo.save_scraped(tx, link.id, PAGE, run=0)
    assert scraped.title == "Mine" and scraped.description == "A stew"


async def test_tags_and_images_complete_the_link_in_either_order(database: Database,
                                                                 user: repo.User) -> None:
    link = await scraped_link(database, user)
    generated = [Suggestion("요리", "category", 0.9), Suggestion("한식", "keyword", 0.8)]
    async with database.write() as tx:
        tagged = await repo.save_generated_tags(tx, link.id, generated, run=0, mood="cozy")
    assert not tagged.completed and tagged.link.status == "scraped"
    assert tagged.link.mood == "cozy"
    # The user's own 요리 stays theirs; only 한식 is generated.
    assert [(t.name, t.generated, t.confidence) for t in tagged.link.tags] == [
        ("요리", False, None), ("한식", True, 0.8)]
    async with database.write() as tx:
        imaged = await repo.record_images(tx, link.id, IMAGES, run=0)
    assert imaged.completed and imaged.link.status == "completed"
    assert imaged.link.image("medium").width == 300 and len(imaged.link.images) == 3
    async with database.write() as tx:  # both messages delivered again
        assert await repo.save_generated_tags(tx, link.id, [Suggestion("x", "k", 1.0)],
                                              run=0) is None
        assert await repo.record_images(tx, link.id, IMAGES[:1], run=0) is None
        assert await repo.skip_stage(tx, link.id, "image", run=0) is None
    async with database.read() as conn:
        final = await repo.get_link(conn, user.id, link.id)
    assert final == imaged.link


async def test_retagging_replaces_only_generated_tags(database: Database,
                                                      user: repo.User) -> None:
    link = await scraped_link(database, user)
    async with database.write() as tx:
        await repo.save_generated_tags(tx, link.id, [Suggestion("a", "keyword", 0.5),
                                                     Suggestion("b", "keyword", 0.5)], run=0)
        await repo.skip_stage(tx, link.id, "image", run=0)
        # The user keeps generated "a" (it becomes theirs) and drops "b".
        await repo.update_link(tx, user.id, link.id, {"tags": ["요리", "a"]})
        retried = await repo.retry_link(tx, user.id, link.id)
        await repo.begin_scrape(tx, link.id, run=1)
        await repo.save_scraped(tx, link.id, PAGE, run=1)
        outcome = await repo.save_generated_tags(tx, link.id, [Suggestion("c", "keyword", 0.7)],
                                                 run=1)
    assert retried.status == "pending" and retried.retry_count == 1
    assert [(t.name, t.generated) for t in outcome.link.tags] == [
        ("a", False), ("요리", False), ("c", True)]
    async with database.read() as conn:
        assert await repo.top_tag_names(conn, user.id) == ["a", "c", "요리"]


async def test_stale_runs_and_deleted_links_change_nothing(database: Database,
                                                           user: repo.User) -> None:
    link = await scraped_link(database, user)
    async with database.write() as tx:
        await repo.retry_link(tx, user.id, link.id)
        assert await repo.save_generated_tags(tx, link.id, [], run=0) is None
        assert await repo.mark_failed(tx, link.id, "old run", run=0) is None
        failed = await repo.mark_failed(tx, link.id, "timeout", run=1)
        assert failed.status == "failed" and failed.processing_error == "timeout"
        assert await repo.mark_failed(tx, link.id, "timeout", run=1) is None
        await repo.delete_link(tx, user.id, link.id)
        assert await repo.begin_scrape(tx, link.id, run=1) is None
        assert await repo.begin_scrape(tx, "no-such-link", run=0) is None
        with pytest.raises(NotFound):
            await repo.retry_link(tx, user.id, link.id)
