"""The supervisor and its pools, in-process, on the memory and SQLite mailboxes."""

from __future__ import annotations

import time

import anyio
import pytest

from linkarchive.engine.mailbox.base import Envelope, Retry
from linkarchive.engine.mailbox.memory import MemoryMailbox
from linkarchive.engine.pool import ActorSpec
from linkarchive.engine.supervisor import EngineCrashed, Supervisor
from linkarchive.errors import ProcessingError

pytestmark = pytest.mark.anyio


async def wait_for(predicate, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.01)


async def test_pool_handles_every_message_with_bounded_concurrency() -> None:
    mailbox = MemoryMailbox(visibility_timeout=5)
    seen: list[int] = []
    running = peak = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01)
        seen.append(envelope.body["n"])
        running -= 1

    for n in range(60):
        await mailbox.send("work", {"n": n})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler, concurrency=4)])
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: len(seen) == 60)
        supervisor.stop()
    assert sorted(seen) == list(range(60))
    assert peak == 4
    assert (await mailbox.stats("work")).depth == 0
    [stats] = supervisor.statistics()
    assert stats.handled == 60 and stats.restarts == 0


async def test_retry_transient_and_dead_letter_outcomes() -> None:
    mailbox = MemoryMailbox(visibility_timeout=5, max_deliveries=3)
    calls: dict[str, int] = {}

    async def handler(envelope: Envelope) -> None:
        kind = envelope.body["kind"]
        calls[kind] = calls.get(kind, 0) + 1
        if kind == "retry-once" and calls[kind] == 1:
            raise Retry("come back later", delay=0.05)
        if kind == "transient":
            raise ProcessingError("upstream 503", transient=True, retry_after=0.05)
        if kind == "permanent":
            raise ProcessingError("page is gone")

    for kind in ("retry-once", "transient", "permanent"):
        await mailbox.send("work", {"kind": kind})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler, concurrency=2)])
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: calls.get("transient") == 3 and calls.get("retry-once") == 2)
        await wait_for(lambda: supervisor.statistics()[0].dead_lettered == 2)
        supervisor.stop()
    dead = {d.body["kind"]: d.reason for d in await mailbox.dead_letters("work")}
    assert dead == {"transient": "upstream 503", "permanent": "page is gone"}
    assert calls["permanent"] == 1


async def test_crashed_actor_is_restarted_and_message_retried() -> None:
    mailbox = MemoryMailbox(visibility_timeout=5)
    calls = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")

    await mailbox.send("work", {"n": 1})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler)])
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        # The crash retries with backoff (1-2 s) before the second, successful call.
        await wait_for(lambda: supervisor.statistics()[0].handled == 1)
        supervisor.stop()
    [stats] = supervisor.statistics()
    assert stats.restarts == 1 and calls == 2


async def test_restart_intensity_exceeded_stops_the_engine() -> None:
    mailbox = MemoryMailbox(visibility_timeout=5, max_deliveries=10)

    async def handler(envelope: Envelope) -> None:
        raise RuntimeError("always broken")

    for n in range(5):
        await mailbox.send("work", {"n": n})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler, concurrency=2)],
                            max_restarts=2, restart_window=60)
    with anyio.fail_after(10), pytest.raises(EngineCrashed, match="always broken"):
        await supervisor.run()


async def test_shutdown_lets_in_flight_finish_and_returns_the_rest() -> None:
    mailbox = MemoryMailbox(visibility_timeout=30)
    started: list[int] = []
    finished: list[int] = []

    async def handler(envelope: Envelope) -> None:
        started.append(envelope.body["n"])
        await anyio.sleep(0.3)
        finished.append(envelope.body["n"])

    for n in range(20):
        await mailbox.send("work", {"n": n})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler, concurrency=2)],
                            shutdown_grace=5)
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: len(started) == 2)
        supervisor.stop()
    assert sorted(finished) == sorted(started)  # in-flight work finished
    stats = await mailbox.stats("work")
    assert stats.ready == 20 - len(finished) and stats.in_flight == 0  # the rest went back


async def test_grace_period_cancels_slow_handlers_and_returns_their_messages() -> None:
    mailbox = MemoryMailbox(visibility_timeout=30)

    async def handler(envelope: Envelope) -> None:
        await anyio.sleep(60)

    await mailbox.send("work", {"n": 1})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler)],
                            shutdown_grace=0.3)
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: supervisor.statistics()[0].in_flight == 1)
        supervisor.stop()
    assert time.monotonic() - started < 5
    [envelope] = await mailbox.receive("work", timeout=1)
    assert envelope.attempts == 1  # returned without counting the interrupted delivery


async def test_slow_handler_keeps_its_lease() -> None:
    mailbox = MemoryMailbox(visibility_timeout=0.3)
    calls = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        await anyio.sleep(1.2)  # four visibility timeouts

    await mailbox.send("work", {"n": 1})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler, concurrency=2)])
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: supervisor.statistics()[0].handled == 1)
        supervisor.stop()
    assert calls == 1


async def test_used_up_retries_call_the_dead_letter_hook() -> None:
    mailbox = MemoryMailbox(visibility_timeout=5, max_deliveries=3)
    settled: list[tuple[dict, str]] = []

    async def handler(envelope: Envelope) -> None:
        raise Retry("upstream still down", delay=0)

    async def settle(envelope: Envelope, reason: str) -> None:
        settled.append((dict(envelope.body), reason))

    await mailbox.send("work", {"n": 1})
    supervisor = Supervisor(mailbox, [ActorSpec(queue="work", handler=handler,
                                                on_dead_letter=settle)])
    async with anyio.create_task_group() as tg:
        await tg.start(supervisor.run)
        await wait_for(lambda: bool(settled))
        supervisor.stop()
    assert settled == [({"n": 1}, "upstream still down")]
    assert len(await mailbox.dead_letters("work")) == 1
