"""The supervisor: starts one pool per actor kind, restarts crashed actors, drains on shutdown.

Shutdown runs in phases: stop intake (buffered messages go back), give in-flight handlers the
grace period, cancel what is left (those messages go back too), then return.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
from anyio.abc import TaskStatus

from linkarchive.engine.mailbox.base import Mailbox
from linkarchive.engine.pool import ActorSpec, Pool, PoolStats
from linkarchive.engine.restarts import EngineCrashed, RestartBudget

__all__ = ["EngineCrashed", "Supervisor"]

log = logging.getLogger("linkarchive.engine")


class Supervisor:
    """Owns the pools; ``run()`` returns after ``stop()`` has drained them."""

    def __init__(self, mailbox: Mailbox, specs: Sequence[ActorSpec], *,
                 shutdown_grace: float = 10.0, max_restarts: int = 10,
                 restart_window: float = 60.0) -> None:
        self.mailbox = mailbox
        self.shutdown_grace = shutdown_grace
        budget = RestartBudget(max_restarts, restart_window)
        self.pools = [Pool(spec, mailbox, budget) for spec in specs]
        self._stop_requested = anyio.Event()

    def statistics(self) -> list[PoolStats]:
        return [pool.statistics() for pool in self.pools]

    def stop(self) -> None:
        """Begin a graceful shutdown; safe to call more than once."""
        self._stop_requested.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run every pool until ``stop()``; raise EngineCrashed past the restart intensity."""
        try:
            async with anyio.create_task_group() as timers:
                async with anyio.create_task_group() as pools:
                    for pool in self.pools:
                        await pools.start(pool.run)
                    log.info("engine started: %s", ", ".join(
                        f"{p.spec.queue}x{p.spec.concurrency}" for p in self.pools))
                    task_status.started()
                    await self._stop_requested.wait()
                    log.info("engine stopping: intake closed, %.0fs grace for in-flight work",
                             self.shutdown_grace)
                    for pool in self.pools:
                        pool.stop()
                    timers.start_soon(self._cancel_after_grace)
                timers.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            crashed, _ = group.split(EngineCrashed)
            if crashed:
                raise _first(crashed) from None
            raise
        log.info("engine stopped")

    async def _cancel_after_grace(self) -> None:
        await anyio.sleep(self.shutdown_grace)
        busy = sum(p.statistics().in_flight for p in self.pools)
        if busy:
            log.warning("grace period over; returning %d in-flight messages", busy)
        for pool in self.pools:
            pool.cancel_in_flight()


def _first(group: BaseExceptionGroup) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
