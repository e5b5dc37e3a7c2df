"""The mailbox contract, run against every backend: memory, sqlite and (real) Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import pytest

from linkarchive.engine.mailbox.base import Mailbox, backoff_delay
from linkarchive.engine.mailbox.memory import MemoryMailbox
from linkarchive.engine.mailbox.sqlite import SQLiteMailbox
from linkarchive.storage.sqlite import SQLiteDatabase

pytestmark = pytest.mark.anyio

VT = 0.6  # short visibility timeout so reclaim is observable quickly


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def mailbox(request, tmp_path) -> AsyncIterator[Mailbox]:
    options = {"visibility_timeout": VT, "max_deliveries": 3}
    if request.param == "memory":
        async with MemoryMailbox(**options) as box:
            yield box
    elif request.param == "sqlite":
        async with SQLiteDatabase(f"sqlite:///{tmp_path / 'db.sqlite'}") as database:
            await database.migrate()
            async with SQLiteMailbox(database, **options) as box:
                yield box
    else:
        from linkarchive.engine.mailbox.redis import RedisMailbox

        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        async with RedisMailbox.from_url(url, prefix=prefix, **options) as box:
            yield box


async def test_send_receive_ack(mailbox: Mailbox) -> None:
    message_id = await mailbox.send("q", {"n": 1, "text": "김치찌개"})
    assert message_id
    [envelope] = await mailbox.receive("q", timeout=2)
    assert envelope.body == {"n": 1, "text": "김치찌개"}
    assert envelope.attempts == 1
    assert envelope.queue == "q"
    await mailbox.ack(envelope)
    assert await mailbox.receive("q", timeout=0.1) == []
    assert (await mailbox.stats("q")).depth == 0


async def test_queues_are_separate(mailbox: Mailbox) -> None:
    await mailbox.send("a", {"x": 1})
    assert await mailbox.receive("b", timeout=0.1) == []
    assert len(await mailbox.receive("a", timeout=1)) == 1


async def test_batch_receive_takes_up_to_max(mailbox: Mailbox) -> None:
    for n in range(7):
        await mailbox.send("q", {"n": n})
    first = await mailbox.receive("q", max_messages=5, timeout=1)
    second = await mailbox.receive("q", max_messages=5, timeout=1)
    assert len(first) == 5 and len(second) == 2
    assert sorted(e.body["n"] for e in first + second) == list(range(7))


async def test_blocking_receive_wakes_on_send(mailbox: Mailbox) -> None:
    received = []

    async def consumer() -> None:
        received.extend(await mailbox.receive("q", timeout=5))

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer)
        await anyio.sleep(0.2)
        started = time.monotonic()
        await mailbox.send("q", {"late": True})
    assert [e.body for e in received] == [{"late": True}]
    assert time.monotonic() - started < 4


async def test_receive_times_out_empty(mailbox: Mailbox) -> None:
    started = time.monotonic()
    assert await mailbox.receive("empty", timeout=0.3) == []
    assert 0.25 <= time.monotonic() - started < 3


async def test_unacked_message_is_redelivered_after_visibility_timeout(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    [first] = await mailbox.receive("q", timeout=1)
    assert await mailbox.receive("q", timeout=0.1) == []  # leased: invisible
    await anyio.sleep(VT + 0.3)
    [again] = await mailbox.receive("q", timeout=2)
    assert again.id == first.id and again.attempts == 2
    await mailbox.ack(first)  # a stale receipt must not remove the new delivery
    await mailbox.ack(again)
    assert (await mailbox.stats("q")).depth == 0


async def test_extend_keeps_slow_work_from_redelivery(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    [envelope] = await mailbox.receive("q", timeout=1)
    for _ in range(4):
        await anyio.sleep(VT / 2)
        await mailbox.extend(envelope)
    assert await mailbox.receive("q", timeout=0.1) == []
    await mailbox.ack(envelope)


async def test_retry_waits_its_delay_and_keeps_the_count(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    [envelope] = await mailbox.receive("q", timeout=1)
    assert await mailbox.retry(envelope, "busy", delay=0.5) == 0.5
    assert await mailbox.receive("q", timeout=0.2) == []
    stats = await mailbox.stats("q")
    assert stats.delayed == 1 and stats.ready == 0
    [again] = await mailbox.receive("q", timeout=3)
    assert again.attempts == 2 and again.body == {"n": 1}
    await mailbox.ack(again)


async def test_retry_default_delay_is_backoff(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    [envelope] = await mailbox.receive("q", timeout=1)
    delay = await mailbox.retry(envelope, "flaky")
    assert delay is not None and 1.0 <= delay <= 2.0  # first retry: base 2s, jittered upper half
    assert await mailbox.receive("q", timeout=0.3) == []


async def test_dead_letter_after_max_deliveries_keeps_reason(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1}, key="k1")
    for attempt in (1, 2):
        [envelope] = await mailbox.receive("q", timeout=3)
        assert envelope.attempts == attempt
        assert await mailbox.retry(envelope, f"boom {attempt}", delay=0) == 0
    [envelope] = await mailbox.receive("q", timeout=3)
    assert await mailbox.retry(envelope, "boom 3", delay=0) is None
    assert await mailbox.receive("q", timeout=0.2) == []
    [dead] = await mailbox.dead_letters("q")
    assert dead.reason == "boom 3" and dead.attempts == 3 and dead.body == {"n": 1}
    assert (await mailbox.stats("q")).dead == 1


async def test_crashing_handler_is_dead_lettered_by_delivery_count(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"poison": True})
    for _ in range(3):  # each delivery "crashes": never acked
        assert len(await mailbox.receive("q", timeout=3)) == 1
        await anyio.sleep(VT + 0.2)
    given_up = []

    async def hook(envelope, reason: str) -> None:
        given_up.append((envelope.body, reason))

    assert await mailbox.receive("q", timeout=0.3, on_dead_letter=hook) == []
    [dead] = await mailbox.dead_letters("q")
    assert "without being acknowledged" in dead.reason
    assert given_up == [({"poison": True}, dead.reason)]


async def test_requeue_and_purge_dead_letters(mailbox: Mailbox) -> None:
    for n in range(2):
        await mailbox.send("q", {"n": n})
    for envelope in await mailbox.receive("q", max_messages=2, timeout=1):
        await mailbox.dead_letter(envelope, "bad")
    dead = await mailbox.dead_letters("q")
    assert len(dead) == 2
    assert await mailbox.requeue_dead("q", [dead[0].id]) == 1
    [back] = await mailbox.receive("q", timeout=2)
    assert back.body == dead[0].body and back.attempts == 1
    assert await mailbox.purge_dead("q") == 1
    assert await mailbox.dead_letters("q") == []


async def test_release_returns_message_without_counting(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    [envelope] = await mailbox.receive("q", timeout=1)
    await mailbox.release(envelope)
    [again] = await mailbox.receive("q", timeout=1)
    assert again.attempts == 1


async def test_idempotent_send_by_key(mailbox: Mailbox) -> None:
    assert await mailbox.send("q", {"n": 1}, key="link:1")
    assert await mailbox.send("q", {"n": 2}, key="link:1") is None
    [envelope] = await mailbox.receive("q", max_messages=5, timeout=1)
    assert envelope.body == {"n": 1}
    await mailbox.ack(envelope)
    assert await mailbox.send("q", {"n": 3}, key="link:1")  # done, so the key is free again


async def test_lower_priority_number_first(mailbox: Mailbox) -> None:
    for n in range(3):
        await mailbox.send("q", {"bulk": n}, priority=5)
    await mailbox.send("q", {"urgent": True}, priority=0)
    [first] = await mailbox.receive("q", timeout=1)
    assert first.body == {"urgent": True}


async def test_delayed_send(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1}, delay=0.5)
    assert await mailbox.receive("q", timeout=0.1) == []
    assert len(await mailbox.receive("q", timeout=3)) == 1


async def test_stats_depth_and_oldest_age(mailbox: Mailbox) -> None:
    await mailbox.send("q", {"n": 1})
    await anyio.sleep(0.3)
    await mailbox.send("q", {"n": 2})
    stats = await mailbox.stats("q")
    assert stats.ready == 2 and stats.depth == 2
    assert 0.25 <= stats.oldest_age < 10
    await mailbox.receive("q", timeout=1)
    stats = await mailbox.stats("q")
    assert stats.in_flight == 1 and stats.ready == 1


async def test_ping(mailbox: Mailbox) -> None:
    await mailbox.ping()


def test_backoff_is_capped_and_jittered() -> None:
    delays = [backoff_delay(10) for _ in range(50)]
    assert all(150 <= d <= 300 for d in delays)
    assert len(set(delays)) > 1
    assert 1.0 <= backoff_delay(1) <= 2.0
