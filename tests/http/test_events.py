"""The event-bus contract, run on the in-process and the (real) Redis bus, and across instances."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio as aioredis

from linkarchive.http.events import EventBus, InProcessEventBus, RedisEventBus, Subscription
from tests.conftest import free_port

pytestmark = pytest.mark.anyio

BUFFER = 4


@pytest.fixture(params=["memory", "redis"])
async def bus(request) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        async with InProcessEventBus(buffer=BUFFER) as memory:
            yield memory
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        async with RedisEventBus.from_url(url, prefix=prefix, buffer=BUFFER) as shared:
            with anyio.fail_after(5):
                await shared.wait_connected()
            yield shared


async def next_event(events: Subscription, timeout: float = 5.0) -> dict:
    with anyio.fail_after(timeout):
        return await events.__anext__()


async def nothing_arrives(events: Subscription, wait: float = 0.2) -> bool:
    with anyio.move_on_after(wait):
        await events.__anext__()
        return False
    return True


async def test_a_subscriber_receives_what_is_published_to_its_user(bus: EventBus) -> None:
    async with bus.subscribe("alice") as events:
        await bus.publish("alice", {"type": "link.updated", "link": {"id": "1", "title": "김치"}})
        await bus.publish("alice", {"type": "link.updated", "link": {"id": "2"}})
        assert await next_event(events) == {"type": "link.updated",
                                            "link": {"id": "1", "title": "김치"}}
        assert (await next_event(events))["link"]["id"] == "2"


async def test_users_are_isolated(bus: EventBus) -> None:
    async with bus.subscribe("alice") as alice, bus.subscribe("bob") as bob:
        await bus.publish("bob", {"type": "link.updated", "for": "bob"})
        assert (await next_event(bob))["for"] == "bob"
        assert await nothing_arrives(alice)


async def test_every_subscriber_of_a_user_receives_each_event(bus: EventBus) -> None:
    async with bus.subscribe("alice") as phone, bus.subscribe("alice") as laptop:
        assert bus.statistics().subscribers == 2
        await bus.publish("alice", {"type": "link.updated"})
        assert await next_event(phone) == await next_event(laptop) == {"type": "link.updated"}
    assert bus.statistics().subscribers == 0
    assert bus.statistics().users == 0


async def test_events_arrive_as_json(bus: EventBus) -> None:
    async with bus.subscribe("alice") as events:
        when = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
        await bus.publish("alice", {"type": "link.updated", "at": when, "tags": ("a", "b")})
        assert await next_event(events) == {"type": "link.updated",
                                            "at": "2026-11-24T12:00:00+00:00", "tags": ["a", "b"]}


@pytest.mark.parametrize("event", [{"no": "type"}, {"type": 3}, ["type"]])
async def test_an_event_without_a_string_type_is_refused(bus: EventBus, event) -> None:
    with pytest.raises(ValueError):
        await bus.publish("alice", event)


async def test_an_event_json_cannot_carry_is_refused(bus: EventBus) -> None:
    with pytest.raises(TypeError):
        await bus.publish("alice", {"type": "x", "value": object()})


async def test_a_slow_subscriber_is_dropped_and_never_blocks_publishers(bus: EventBus) -> None:
    async with bus.subscribe("alice") as slow, bus.subscribe("alice") as fast:
        received = []
        with anyio.fail_after(5):
            for n in range(BUFFER):
                await bus.publish("alice", {"type": "tick", "n": n})
                received.append(await next_event(fast))
            for n in range(BUFFER, BUFFER + 3):  # slow is full now
                await bus.publish("alice", {"type": "tick", "n": n})
                received.append(await next_event(fast))
        assert [event["n"] for event in received] == list(range(BUFFER + 3))
        assert [event["n"] async for event in slow] == list(range(BUFFER))  # then it ends
        assert slow.dropped and not fast.dropped
        assert bus.statistics().dropped == 1


async def test_leaving_the_bus_ends_subscriptions() -> None:
    async with InProcessEventBus() as bus, bus.subscribe("alice") as events:
        await bus.publish("alice", {"type": "last"})
        await bus.__aexit__(None, None, None)
        assert [event async for event in events] == [{"type": "last"}]
        assert not events.dropped


async def test_redis_events_cross_instances(redis_url, redis_prefix) -> None:
    async with (RedisEventBus.from_url(redis_url, prefix=redis_prefix) as api_one,
                RedisEventBus.from_url(redis_url, prefix=redis_prefix) as api_two,
                RedisEventBus.from_url(redis_url, prefix=redis_prefix + "other:") as foreign):
        with anyio.fail_after(5):
            for bus in (api_one, api_two, foreign):
                await bus.wait_connected()
        async with (api_one.subscribe("alice") as on_one, api_two.subscribe("alice") as on_two,
                    foreign.subscribe("alice") as on_foreign):
            await api_two.publish("alice", {"type": "link.updated", "link": {"id": "7"}})
            assert (await next_event(on_one))["link"]["id"] == "7"
            assert (await next_event(on_two))["link"]["id"] == "7"
            assert await nothing_arrives(on_foreign)  # another prefix is another deployment


async def test_redis_unreachable_drops_events_without_raising(caplog) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with RedisEventBus.from_url(url, prefix="x:", timeout=0.5) as bus:
        async with bus.subscribe("alice") as events:
            with anyio.fail_after(5):
                await bus.publish("alice", {"type": "link.updated"})
            assert await nothing_arrives(events)
    assert "Redis is unavailable" in caplog.text


async def test_redis_bus_reconnects_after_losing_its_connection(redis_url, redis_prefix,
                                                               caplog) -> None:
    name = redis_prefix.replace(":", "-") + "bus"
    client = aioredis.Redis.from_url(redis_url, client_name=name)
    async with RedisEventBus(client, prefix=redis_prefix, owns_client=True) as bus:
        with anyio.fail_after(5):
            await bus.wait_connected()
        admin = aioredis.Redis.from_url(redis_url)
        try:
            killed = 0
            for entry in await admin.client_list():
                if entry["name"] == name and "psubscribe" in entry["cmd"]:
                    killed += await admin.client_kill_filter(_id=entry["id"])
            assert killed == 1
        finally:
            await admin.aclose()
        async with bus.subscribe("alice") as events:
            with anyio.fail_after(10):
                while True:  # events published while it reconnects are lost, by contract
                    await bus.publish("alice", {"type": "link.updated"})
                    with anyio.move_on_after(0.2):
                        assert await events.__anext__() == {"type": "link.updated"}
                        break
    assert "live events from Redis interrupted" in caplog.text
