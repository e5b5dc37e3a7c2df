"""Prometheus metrics, defined once; the pipeline, mailboxes and HTTP edge update them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CACHE_LOOKUPS",
    "DEAD_LETTERS",
    "FETCHES",
    "HTTP_LATENCY",
    "MAILBOX_DEPTH",
    "MAILBOX_OLDEST_AGE",
    "MODEL_CALLS",
    "RETRIES",
    "STAGE_DURATION",
    "STAGES",
]

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
RETRIES = Counter("linkarchive_mailbox_retries_total", "Messages retried per queue.", ["queue"])
DEAD_LETTERS = Counter("linkarchive_mailbox_dead_letters_total",
                       "Messages dead-lettered per queue.", ["queue"])
FETCHES = Counter("linkarchive_fetch_total", "Page and image fetches by outcome.",
                  ["kind", "outcome"])
MODEL_CALLS = Counter("linkarchive_model_calls_total", "Tagging by source and outcome.",
                      ["source", "outcome"])
CACHE_LOOKUPS = Counter("linkarchive_cache_lookups_total", "Cache lookups by result.",
                        ["result"])
