"""``GET /api/v1/events``: the signed-in user's live events over a WebSocket.

The server sends JSON text frames: ``{"type": "ready"}`` once the subscription is live, then the
user's events (``{"type": "link.updated", ...}``). Client frames are ignored. Close codes: 1001
when the server shuts down, 1013 when the client fell too far behind (reconnect, then catch up
with ``/sync/pull``).
"""

from __future__ import annotations

import functools
import logging

import anyio
from aiohttp import WSCloseCode, web

from linkarchive.http.events import Subscription
from linkarchive.http.jsonio import dumps
from linkarchive.http.keys import CLAIMS, EVENTS, SOCKETS
from linkarchive.http.middlewares import allow_query_token
from linkarchive.http.openapi import operation

__all__ = ["EVENTS_PATH", "events_socket", "setup"]

log = logging.getLogger("linkarchive.http.events")

EVENTS_PATH = "/api/v1/events"
HEARTBEAT = 30.0  # seconds between pings: finds dead peers, keeps proxies from idling us out
CLOSE_TIMEOUT = 5.0
MAX_CLIENT_FRAME = 64 * 1024


async def _forward(events: Subscription, socket: web.WebSocketResponse) -> None:
    try:
        async for event in events:
            await socket.send_str(dumps(event).decode())
    except ConnectionResetError:
        return
    if events.dropped:
        await socket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too far behind")
    else:
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"events closed")


@allow_query_token  # browsers cannot set headers on a WebSocket handshake
@operation(summary="Live events of the signed-in user (WebSocket)", tags=("events",),
           responses={101: None, 426: None})
async def events_socket(request: web.Request) -> web.StreamResponse:
    claims = request[CLAIMS]
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT, timeout=CLOSE_TIMEOUT,
                                   max_msg_size=MAX_CLIENT_FRAME)
    if not socket.can_prepare(request).ok:
        raise web.HTTPUpgradeRequired(text="This endpoint speaks WebSocket only.",
                                      headers={"Upgrade": "websocket"})
    await socket.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(socket)
    try:
        async with request.app[EVENTS].subscribe(claims.user_id) as events:
            await socket.send_str(dumps({"type": "ready"}).decode())
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_forward, events, socket)
                async for _ in socket:  # ends when either side closes
                    pass
                tasks.cancel_scope.cancel()
    except ConnectionResetError:
        pass  # the client left before the ready frame
    except Exception:
        # Past the handshake no problem response can be sent: log, and close the socket.
        log.exception("live events socket of user %s failed", claims.user_id)
        await socket.close(code=WSCloseCode.INTERNAL_ERROR)
    finally:
        sockets.discard(socket)
    return socket


async def _close_sockets(app: web.Application) -> None:
    async with anyio.create_task_group() as tasks:
        for socket in list(app[SOCKETS]):
            tasks.start_soon(functools.partial(
                socket.close, code=WSCloseCode.GOING_AWAY, message=b"server shutdown"))


def setup(app: web.Application) -> None:
    """Serve the socket; open sockets are closed when the server shuts down."""
    app[SOCKETS] = set()
    app.router.add_get(EVENTS_PATH, events_socket)
    app.on_shutdown.append(_close_sockets)
