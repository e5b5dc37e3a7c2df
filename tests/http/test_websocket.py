"""``GET /api/v1/events`` over a real WebSocket: authentication, delivery, slow clients, shutdown."""

from __future__ import annotations

import logging

import aiohttp
import anyio
import pytest
from aiohttp import WSCloseCode, WSMsgType

from linkarchive.http.accesslog import AccessLogger
from linkarchive.http.events import InProcessEventBus, RedisEventBus
from linkarchive.http.keys import EVENTS, SOCKETS
from tests.http.support import Services, bearer, make_app, serve, token_for

pytestmark = pytest.mark.anyio

PATH = "/api/v1/events"


async def receive_json(socket: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict:
    with anyio.fail_after(timeout):
        message = await socket.receive()
    assert message.type is WSMsgType.TEXT, message
    return message.json()


async def test_a_published_event_reaches_the_socket() -> None:
    app = make_app()
    async with serve(app) as client:
        async with client.ws_connect(PATH, headers=bearer(token_for(app, "alice"))) as socket:
            assert await receive_json(socket) == {"type": "ready"}
            await app[EVENTS].publish("bob", {"type": "link.updated", "link": {"id": "b"}})
            await app[EVENTS].publish("alice", {"type": "link.updated", "link": {"id": "a"}})
            assert await receive_json(socket) == {"type": "link.updated", "link": {"id": "a"}}
            await socket.send_str("client frames are ignored")
            await app[EVENTS].publish("alice", {"type": "link.updated", "link": {"id": "a2"}})
            assert (await receive_json(socket))["link"]["id"] == "a2"
        with anyio.fail_after(5):
            while app[SOCKETS] or app[EVENTS].statistics().subscribers:
                await anyio.sleep(0.01)


async def test_the_token_may_come_in_the_query_and_stays_out_of_the_access_log(caplog) -> None:
    app = make_app()
    token = token_for(app, "alice")
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        async with serve(app, access_log_class=AccessLogger) as client:
            async with client.ws_connect(PATH, params={"access_token": token}) as socket:
                assert await receive_json(socket) == {"type": "ready"}
            plain = await client.get(PATH, params={"access_token": token})
            assert plain.status == 426
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any(f"GET {PATH} 426" in line for line in lines), lines
    assert token not in caplog.text


@pytest.mark.parametrize("credentials", [{}, {"params": {"access_token": "forged.token.x"}},
                                         {"headers": {"Authorization": "Bearer nope"}}])
async def test_a_socket_without_a_valid_token_is_refused_with_401(credentials) -> None:
    app = make_app()
    async with serve(app) as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(PATH, **credentials)
        assert refused.value.status == 401
        plain = await client.get(PATH, **credentials)
        assert plain.status == 401
        assert plain.content_type == "application/problem+json"


async def test_a_plain_request_is_told_to_upgrade() -> None:
    app = make_app()
    async with serve(app) as client:
        response = await client.get(PATH, headers=bearer(token_for(app)))
        assert response.status == 426
        assert response.headers["Upgrade"] == "websocket"


async def test_a_client_too_far_behind_is_closed_with_1013() -> None:
    async with InProcessEventBus(buffer=2) as bus:
        app = make_app(services=Services(events=bus))
        async with serve(app) as client:
            async with client.ws_connect(PATH, headers=bearer(token_for(app, "alice"))) as socket:
                assert await receive_json(socket) == {"type": "ready"}
                # Delivering without yielding fills the buffer before the socket can drain it.
                for n in range(10):
                    bus.deliver("alice", {"type": "tick", "n": n})
                frames = []
                with anyio.fail_after(5):
                    async for message in socket:
                        frames.append(message.json()["n"])
                # What was buffered (plus one handed straight to the waiting sender) arrives.
                assert frames == list(range(len(frames))) and 2 <= len(frames) <= 3
                assert socket.close_code == WSCloseCode.TRY_AGAIN_LATER


async def test_open_sockets_are_closed_on_shutdown() -> None:
    app = make_app()
    client_cm = serve(app)
    client = await client_cm.__aenter__()
    try:
        socket = await client.ws_connect(PATH, headers=bearer(token_for(app)))
        assert await receive_json(socket) == {"type": "ready"}
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.server.close)  # runs on_shutdown, then waits for handlers
                message = await socket.receive()
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
        await socket.close()
    finally:
        await client_cm.__aexit__(None, None, None)


async def test_events_through_redis_reach_a_socket_served_by_another_process(
        redis_url, redis_prefix) -> None:
    async with (RedisEventBus.from_url(redis_url, prefix=redis_prefix) as api_bus,
                RedisEventBus.from_url(redis_url, prefix=redis_prefix) as worker_bus):
        with anyio.fail_after(5):
            await api_bus.wait_connected()
        app = make_app(services=Services(events=api_bus))
        async with serve(app) as client:
            async with client.ws_connect(PATH, headers=bearer(token_for(app, "alice"))) as socket:
                assert await receive_json(socket) == {"type": "ready"}
                await worker_bus.publish("alice", {"type": "link.updated", "status": "completed"})
                assert await receive_json(socket) == {"type": "link.updated",
                                                      "status": "completed"}
