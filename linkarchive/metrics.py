"""Prometheus metrics, defined once; the pipeline, mailboxes and HTTP edge update them.

Counters and histograms move as work happens. Mailbox and cache figures are read from the
backends when ``/metrics`` is scraped (``refresh``), so they hold for every process sharing
the mailbox, not just this one. The default registry adds the process's memory and CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import anyio
from prometheus_client import Counter, Gauge, Histogram

from linkarchive.errors import UnavailableError

__all__ = [
    "CACHE_HIT_RATIO",
    "CACHE_LOOKUPS",
    "DEAD_LETTERS",
    "FETCHES",
    "HTTP_LATENCY",
    "MAILBOX_DEAD",
    "MAILBOX_DEPTH",
    "MAILBOX_OLDEST_AGE",
    "MODEL_CALLS",
    "RETRIES",
    "STAGE_DURATION",
    "STAGES",
    "refresh",
]

log = logging.getLogger("linkarchive.metrics")

REFRESH_TIMEOUT = 2.0

HTTP_LATENCY = Histogram(
    "linkarchive_http_request_duration_seconds", "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
STAGES = Counter("linkarchive_pipeline_stage_total", "Pipeline stage runs by outcome.",
                 ["stage", "outcome"])
STAGE_DURATION = Histogram(
    "linkarchive_pipeline_stage_duration_seconds", "Pipeline stage duration by outcome.",
    ["stage", "outcome"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
MAILBOX_DEPTH = Gauge("linkarchive_mailbox_depth", "Messages waiting or in flight per queue.",
                      ["queue", "state"])
MAILBOX_OLDEST_AGE = Gauge("linkarchive_mailbox_oldest_age_seconds",
                           "Age of the oldest waiting message per queue.", ["queue"])
MAILBOX_DEAD = Gauge("linkarchive_mailbox_dead", "Dead letters parked per queue.", ["queue"])
RETRIES = Counter("linkarchive_mailbox_retries_total", "Messages retried per queue.", ["queue"])
DEAD_LETTERS = Counter("linkarchive_mailbox_dead_letters_total",
                       "Messages dead-lettered per queue.", ["queue"])
FETCHES = Counter("linkarchive_fetch_total", "Page and image fetches by outcome.",
                  ["kind", "outcome"])
MODEL_CALLS = Counter("linkarchive_model_calls_total", "Tagging by source and outcome.",
                      ["source", "outcome"])
# Read from the cache's own counts at scrape time: they only grow while the process lives.
CACHE_LOOKUPS = Gauge("linkarchive_cache_lookups",
                      "Cache lookups by result since the process started.", ["result"])
CACHE_HIT_RATIO = Gauge("linkarchive_cache_hit_ratio",
                        "Share of cache lookups that hit since the process started.")


async def refresh(mailbox: Any, cache: Any, queues: Iterable[str]) -> None:
    """Set the mailbox and cache gauges from the backends; an unreachable mailbox leaves its
    gauges as they were (and is logged) rather than failing the scrape."""
    if hasattr(cache, "stats"):
        stats = cache.stats()
        for result, count in (("hit", stats.hits), ("miss", stats.misses),
                              ("error", stats.errors)):
            CACHE_LOOKUPS.labels(result).set(count)
        CACHE_HIT_RATIO.set(stats.hit_ratio)
    if not hasattr(mailbox, "stats"):
        return
    try:
        with anyio.fail_after(REFRESH_TIMEOUT):
            snapshots = [await mailbox.stats(queue) for queue in queues]
    except (UnavailableError, TimeoutError) as exc:
        log.warning("mailbox gauges not refreshed: %s", exc or "timed out")
        return
    for snap in snapshots:
        for state in ("ready", "delayed", "in_flight"):
            MAILBOX_DEPTH.labels(snap.queue, state).set(getattr(snap, state))
        MAILBOX_OLDEST_AGE.labels(snap.queue).set(snap.oldest_age)
        MAILBOX_DEAD.labels(snap.queue).set(snap.dead)
