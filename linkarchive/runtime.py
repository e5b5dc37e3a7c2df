"""Running the process: services, the engine's supervisor and the HTTP API under one task group,
stopped gracefully by SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack

import anyio
from aiohttp import web
from anyio.abc import TaskStatus

from linkarchive.config import Settings
from linkarchive.engine.pool import ActorSpec
from linkarchive.engine.supervisor import Supervisor
from linkarchive.http.accesslog import AccessLogger
from linkarchive.services import Services, open_services

__all__ = ["run_process"]

log = logging.getLogger("linkarchive")

PipelineFactory = Callable[[Services], AbstractAsyncContextManager[Sequence[ActorSpec]]]


async def _serve_http(services: Services, stop: anyio.Event, api: bool, *,
                      task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    settings = services.settings
    if api:
        from linkarchive.http.app import create_app

        app = create_app(settings.server, services=services)
    else:
        from linkarchive.http.ops import create_ops_app

        app = create_ops_app(services)
    runner = web.AppRunner(app, access_log_class=AccessLogger, handle_signals=False,
                           shutdown_timeout=settings.engine.shutdown_grace)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.server.host, settings.server.port)
        await site.start()
        log.info("listening on http://%s:%d", settings.server.host, settings.server.port)
        task_status.started()
        await stop.wait()
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(
                settings.engine.shutdown_grace + 5):
            await runner.cleanup()


async def _watch_signals(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s; shutting down", signal.Signals(signum).name)
            stop.set()
            return


async def run_process(settings: Settings, *, api: bool, engine: bool, probes: bool = False,
                      pipeline: PipelineFactory | None = None) -> None:
    """Run until a signal arrives; raise EngineCrashed if the engine gives up.

    Without the API, ``probes`` still serves health and metrics on the configured port.
    """
    async with open_services(settings) as services, AsyncExitStack() as stack:
        stop = anyio.Event()
        supervisor = None
        if engine:
            if pipeline is None:
                from linkarchive.engine.actors import open_pipeline as pipeline
            specs = await stack.enter_async_context(pipeline(services))
            supervisor = Supervisor(
                services.mailbox, specs, shutdown_grace=settings.engine.shutdown_grace,
                max_restarts=settings.engine.max_restarts,
                restart_window=settings.engine.restart_window)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_watch_signals, stop)
            if services.jobs.needs_relay:
                await tg.start(services.jobs.relay)
            async with anyio.create_task_group() as workers:
                if supervisor is not None:
                    await workers.start(supervisor.run)
                if api or probes:
                    await workers.start(_serve_http, services, stop, api)
                await stop.wait()
                if supervisor is not None:
                    supervisor.stop()
            tg.cancel_scope.cancel()  # the relay and the signal watcher
