"""Sync on both dialects: pulling by cursor, tombstones, push idempotency, and a pull racing
many concurrent writers that must still see every change exactly once."""

from __future__ import annotations

import random

import anyio
import pytest

from linkarchive.errors import NotFound
from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from tests.storage.conftest import MakeUser

pytestmark = pytest.mark.anyio


async def pull_all(database: Database, user: repo.User, cursor: int = 0,
                   limit: int = 500) -> tuple[list[repo.SyncPage], int]:
    pages = []
    while True:
        async with database.read() as conn:
            page = await repo.changes_since(conn, user.id, cursor, limit=limit)
        pages.append(page)
        cursor = page.next_cursor
        if not page.has_more:
            return pages, cursor


async def test_pull_returns_changes_in_order_with_tombstones(database: Database,
                                                             make_user: MakeUser) -> None:
    user, other = await make_user(), await make_user()
    async with database.write() as tx:
        a, _ = await repo.create_or_get(tx, user.id, "https://a.example", "a")
        b, _ = await repo.create_or_get(tx, user.id, "https://b.example", "b")
        await repo.create_or_get(tx, other.id, "https://a.example", "a")
    pages, cursor = await pull_all(database, user, limit=1)
    assert [link.id for page in pages for link in page.links] == [a.id, b.id]
    async with database.write() as tx:
        await repo.update_link(tx, user.id, a.id, {"note": "later"})
        gone = await repo.delete_link(tx, user.id, b.id)
    pages, cursor = await pull_all(database, user, cursor)
    [page] = pages
    assert [(link.id, link.note, link.version) for link in page.links] == [(a.id, "later", 2)]
    assert page.deleted == (gone,) and page.deleted[0].version == 2
    assert cursor == gone.change_seq
    async with database.read() as conn:
        assert await repo.current_cursor(conn, user.id) == cursor
        empty = await repo.changes_since(conn, user.id, cursor)
        assert (empty.links, empty.deleted, empty.next_cursor) == ((), (), cursor)
        with pytest.raises(NotFound):
            await repo.current_cursor(conn, 999_999)


async def test_cursor_from_a_timestamp(database: Database, user: repo.User) -> None:
    async with database.write() as tx:
        first, _ = await repo.create_or_get(tx, user.id, "https://a.example", "a")
    async with database.write() as tx:
        second, _ = await repo.create_or_get(tx, user.id, "https://b.example", "b")
    async with database.read() as conn:
        cursor = await repo.cursor_at(conn, user.id, first.updated_at)
        assert [link.id for link in (await repo.changes_since(conn, user.id, cursor)).links] == [
            second.id]
        assert await repo.cursor_at(conn, user.id, second.updated_at + 1) == second.change_seq
        assert await repo.cursor_at(conn, user.id, 0) == 0


async def test_a_pushed_change_applies_once(database: Database, make_user: MakeUser) -> None:
    user, other = await make_user(), await make_user()
    async with database.write() as tx:
        assert await repo.claim_change(tx, user.id, "change-1") is None
        await repo.record_change(tx, user.id, "change-1", {"status": "applied", "version": 2})
    async with database.write() as tx:
        assert await repo.claim_change(tx, user.id, "change-1") == {"status": "applied",
                                                                    "version": 2}
        assert await repo.claim_change(tx, other.id, "change-1") is None
    with pytest.raises(RuntimeError):
        async with database.write() as tx:
            assert await repo.claim_change(tx, user.id, "change-2") is None
            raise RuntimeError("applying failed")
    async with database.read() as conn:
        assert await repo.applied_change(conn, user.id, "change-2") is None
        assert (await repo.applied_change(conn, user.id, "change-1"))["version"] == 2


async def test_concurrent_pushes_of_one_change_apply_it_once(database: Database,
                                                             user: repo.User) -> None:
    async with database.write() as tx:
        link, _ = await repo.create_or_get(tx, user.id, "https://a.example", "a")
    outcomes = []

    async def push() -> None:
        async with database.write() as tx:
            previous = await repo.claim_change(tx, user.id, "same-change")
            if previous is None:
                await anyio.sleep(0.05)  # hold the claim while the others arrive
                edited = await repo.update_link(tx, user.id, link.id, {"note": "pushed"})
                previous = {"version": edited.version}
                await repo.record_change(tx, user.id, "same-change", previous)
            outcomes.append(previous)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(push)
    assert outcomes == [{"version": 2}] * 4
    async with database.read() as conn:
        assert (await repo.get_link(conn, user.id, link.id)).version == 2


WRITERS = 8
CHANGES_PER_WRITER = 50


async def test_pulls_racing_writers_see_every_change_exactly_once(database: Database,
                                                                  user: repo.User) -> None:
    """Writers commit in an order unrelated to when they started; the puller keeps pulling
    meanwhile. Each link must arrive once per version it was pulled at, none may be missed."""
    committed: dict[str, int] = {}  # link id → last committed version
    seen: dict[str, int] = {}
    deliveries: list[tuple[str, int]] = []
    writing = True

    async def writer(number: int) -> None:
        rng = random.Random(number)
        mine: list[str] = []
        for change in range(CHANGES_PER_WRITER):
            async with database.write() as tx:
                if mine and rng.random() < 0.3:
                    link = await repo.update_link(tx, user.id, rng.choice(mine),
                                                  {"note": f"{number}-{change}"})
                else:
                    url = f"https://example.com/{number}/{change}"
                    link, _ = await repo.create_or_get(tx, user.id, url, url)
                    mine.append(link.id)
                # Keep the transaction open a moment so commits interleave with pulls.
                await anyio.sleep(rng.random() * 0.004)
            committed[link.id] = link.version

    async def puller() -> None:
        cursor = 0
        while writing or cursor < await last_cursor():
            async with database.read() as conn:
                page = await repo.changes_since(conn, user.id, cursor, limit=37)
            for link in page.links:
                deliveries.append((link.id, link.change_seq))
                assert link.version > seen.get(link.id, 0)
                seen[link.id] = link.version
            assert page.next_cursor >= cursor
            cursor = page.next_cursor

    async def last_cursor() -> int:
        async with database.read() as conn:
            return await repo.current_cursor(conn, user.id)

    async def writers() -> None:
        nonlocal writing
        async with anyio.create_task_group() as tg:
            for number in range(WRITERS):
                tg.start_soon(writer, number)
        writing = False

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writers)
            tg.start_soon(puller)
    assert seen == committed
    assert len(committed) > WRITERS * CHANGES_PER_WRITER // 2
    sequence = [seq for _, seq in deliveries]
    assert sequence == sorted(set(sequence)), "a change came twice or out of order"
