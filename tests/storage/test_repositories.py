"""The link repositories on both dialects: save, read, list, edit, delete, tags."""

from __future__ import annotations

import hashlib

import pytest

from linkarchive.errors import InvalidInput, NotFound
from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from tests.storage.conftest import MakeUser

pytestmark = pytest.mark.anyio


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


async def save(database: Database, user: repo.User, url: str, **options) -> repo.Link:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, url, url_hash(url), **options)
    return link


async def test_create_or_get_saves_once_per_url(database: Database, user: repo.User) -> None:
    url = "https://example.com/김치찌개"
    async with database.write() as tx:
        link, created = await repo.create_or_get(tx, user.id, url, url_hash(url),
                                                 note="맛있다", source="share", tags=["food"])
    assert created and link.status == "pending" and link.version == 1 and link.retry_count == 0
    assert (link.url, link.note, link.source) == (url, "맛있다", "share")
    assert [(t.name, t.generated) for t in link.tags] == [("food", False)]
    async with database.write() as tx:
        again, created = await repo.create_or_get(tx, user.id, url, url_hash(url), note="other")
    assert not created and again == link


async def test_another_users_link_is_not_found(database: Database, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    link = await save(database, alice, "https://example.com/a")
    bobs = await save(database, bob, "https://example.com/a")
    assert bobs.id != link.id
    async with database.read() as conn:
        with pytest.raises(NotFound):
            await repo.get_link(conn, bob.id, link.id)
        assert (await repo.get_link(conn, alice.id, link.id)).id == link.id
    async with database.write() as tx:
        with pytest.raises(NotFound):
            await repo.update_link(tx, bob.id, link.id, {"note": "mine now"})
    async with database.write() as tx:
        with pytest.raises(NotFound):
            await repo.delete_link(tx, bob.id, link.id)


async def test_update_bumps_version_and_checks_it(database: Database, user: repo.User) -> None:
    link = await save(database, user, "https://example.com/a")
    async with database.write() as tx:
        edited = await repo.update_link(tx, user.id, link.id,
                                        {"title": "My title", "note": "노트", "favorite": True},
                                        expected_version=1)
    assert (edited.title, edited.note, edited.favorite, edited.version) == (
        "My title", "노트", True, 2)
    assert edited.change_seq > link.change_seq and edited.updated_at >= link.updated_at
    with pytest.raises(repo.VersionConflict) as conflict:
        async with database.write() as tx:
            await repo.update_link(tx, user.id, link.id, {"note": "stale"}, expected_version=1)
    assert conflict.value.current.version == 2 and conflict.value.current.note == "노트"
    async with database.read() as conn:
        assert (await repo.get_link(conn, user.id, link.id)).note == "노트"
    async with database.write() as tx:
        assert await repo.update_link(tx, user.id, link.id, {}, expected_version=2) == edited
        with pytest.raises(repo.VersionConflict):
            await repo.update_link(tx, user.id, link.id, {}, expected_version=1)
        with pytest.raises(repo.VersionConflict):
            await repo.delete_link(tx, user.id, link.id, expected_version=1)


async def test_update_rejects_fields_that_are_not_editable(database: Database,
                                                           user: repo.User) -> None:
    link = await save(database, user, "https://example.com/a")
    for changes in ({"status": "completed"}, {"user_id": 2}, {"favorite": "yes"},
                    {"tags": "food"}, {"tags": [1]}, {"title; DROP TABLE links": "x"}):
        async with database.write() as tx:
            with pytest.raises(InvalidInput):
                await repo.update_link(tx, user.id, link.id, changes)


async def test_delete_leaves_a_tombstone_and_frees_the_url(database: Database,
                                                           user: repo.User) -> None:
    link = await save(database, user, "https://example.com/a", tags=["x"])
    async with database.write() as tx:
        tombstone = await repo.delete_link(tx, user.id, link.id, expected_version=1)
    assert tombstone.id == link.id and tombstone.version == 2
    async with database.read() as conn:
        with pytest.raises(NotFound):
            await repo.get_link(conn, user.id, link.id)
        assert (await repo.list_links(conn, user.id)).items == ()
        assert await repo.list_tags(conn, user.id) == []
    async with database.write() as tx:
        with pytest.raises(NotFound):
            await repo.delete_link(tx, user.id, link.id)
    again = await save(database, user, "https://example.com/a")
    assert again.id != link.id and again.version == 1


async def test_list_newest_first_with_pages_and_cursor(database: Database,
                                                       user: repo.User) -> None:
    links = [await save(database, user, f"https://example.com/{n}") for n in range(7)]
    newest_first = [link.id for link in reversed(links)]
    async with database.read() as conn:
        first = await repo.list_links(conn, user.id, limit=3)
        second = await repo.list_links(conn, user.id, limit=3, cursor=first.next_cursor)
        third = await repo.list_links(conn, user.id, limit=3, cursor=second.next_cursor)
        page_two = await repo.list_links(conn, user.id, limit=3, page=2)
        assert await repo.count_links(conn, user.id) == 7
        with pytest.raises(InvalidInput):
            await repo.list_links(conn, user.id, cursor="not a cursor")
    assert [link.id for link in first.items + second.items + third.items] == newest_first
    assert first.has_more and second.has_more and not third.has_more
    assert third.next_cursor is None
    assert page_two.items == second.items


async def test_list_filters(database: Database, user: repo.User) -> None:
    plain = await save(database, user, "https://example.com/plain")
    loved = await save(database, user, "https://example.com/loved", tags=["tech", "go"])
    old = await save(database, user, "https://example.com/old", tags=["tech"])
    async with database.write() as tx:
        await repo.update_link(tx, user.id, loved.id, {"favorite": True})
        await repo.update_link(tx, user.id, old.id, {"archived": True})

    async def ids(**filters) -> list[str]:
        async with database.read() as conn:
            page = await repo.list_links(conn, user.id, filters=repo.LinkFilter(**filters))
            assert await repo.count_links(conn, user.id,
                                          filters=repo.LinkFilter(**filters)) == len(page.items)
        return [link.id for link in page.items]

    assert await ids() == [old.id, loved.id, plain.id]
    assert await ids(tag="tech") == [old.id, loved.id]
    assert await ids(tag="tech", archived=False) == [loved.id]
    assert await ids(tag="nope") == []
    assert await ids(favorite=True) == [loved.id]
    assert await ids(favorite=False) == [old.id, plain.id]
    assert await ids(archived=True) == [old.id]
    assert await ids(status="pending") == [old.id, loved.id, plain.id]
    assert await ids(status="failed") == []
    with pytest.raises(InvalidInput):
        await ids(status="bogus")


async def test_tag_cursor_pages_through_a_tag(database: Database, user: repo.User) -> None:
    tagged = [await save(database, user, f"https://example.com/{n}", tags=["t"])
              for n in range(5)]
    await save(database, user, "https://example.com/untagged")
    seen, cursor = [], None
    async with database.read() as conn:
        while True:
            page = await repo.list_links(conn, user.id, filters=repo.LinkFilter(tag="t"),
                                         limit=2, cursor=cursor)
            seen += [link.id for link in page.items]
            if not page.has_more:
                break
            cursor = page.next_cursor
    assert seen == [link.id for link in reversed(tagged)]


async def test_user_tags_replace_and_counts(database: Database, make_user: MakeUser) -> None:
    user, other = await make_user(), await make_user()
    first = await save(database, user, "https://example.com/1", tags=["파이썬", "web"])
    await save(database, user, "https://example.com/2", tags=["파이썬"])
    await save(database, other, "https://example.com/1", tags=["web", "web", " other "])
    async with database.write() as tx:
        edited = await repo.update_link(tx, user.id, first.id, {"tags": ["파이썬", "async"]})
    assert sorted(t.name for t in edited.tags) == ["async", "파이썬"]
    assert edited.version == 2
    async with database.read() as conn:
        counts = [(t.name, t.count) for t in await repo.list_tags(conn, user.id)]
        assert counts == [("파이썬", 2), ("async", 1)]
        assert [(t.name, t.count) for t in await repo.list_tags(conn, other.id)] == [
            ("other", 1), ("web", 1)]
        assert await repo.top_tag_names(conn, user.id, limit=1) == ["파이썬"]
        by_tag = await repo.list_links(conn, user.id, filters=repo.LinkFilter(tag="web"))
        assert by_tag.items == ()


async def test_imported_links_keep_their_title_flags_and_date(database: Database,
                                                              user: repo.User) -> None:
    newer = await save(database, user, "https://example.com/new")
    async with database.write() as tx:
        old, created = await repo.create_or_get(
            tx, user.id, "https://example.com/old", url_hash("https://example.com/old"),
            title="Bookmarked", favorite=True, archived=True, created_at=1_500_000_000.0,
            completed=True, tags=["imported"])
        assert await repo.begin_scrape(tx, old.id, run=0) is None  # skips the pipeline
    assert created and (old.title, old.favorite, old.archived, old.status) == (
        "Bookmarked", True, True, "completed")
    assert old.created_at == 1_500_000_000.0 and old.updated_at > old.created_at
    async with database.read() as conn:
        page = await repo.list_links(conn, user.id)
        assert [link.id for link in page.items] == [newer.id, old.id]
        tagged = await repo.list_links(conn, user.id, filters=repo.LinkFilter(tag="imported"))
        assert [link.id for link in tagged.items] == [old.id]
