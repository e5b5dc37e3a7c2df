"""``linkarchive stats``: queue depths and ages, how links and stages fare, and recent failures.

Links and queues come from the database and the mailbox; stage counters since the server
started come from its ``/metrics`` page when it answers (they live in the server's memory).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlsplit

import aiohttp
import typer
from prometheus_client.parser import text_string_to_metric_families

from linkarchive.commands.common import JsonOption, print_json, print_table, run_with_services
from linkarchive.commands.queues import QUEUES
from linkarchive.config import Settings
from linkarchive.services import Services
from linkarchive.storage.repositories import admin as admin_repo

__all__ = ["register", "stats"]

METRICS_TIMEOUT = 3.0
TOP = 10
# Counter family → (key in the report, outer label, inner label).
_FAMILIES = {"linkarchive_pipeline_stage": ("stages", "stage", "outcome"),
             "linkarchive_fetch": ("fetches", "kind", "outcome"),
             "linkarchive_model_calls": ("model_calls", "source", "outcome")}


def _rate(good: int, total: int) -> float | None:
    return round(good / total, 4) if total else None


def default_metrics_url(settings: Settings) -> str:
    """This configuration's own server: its listen address, or localhost for a wildcard."""
    host = settings.server.host
    host = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}/metrics"


async def scrape_metrics(url: str) -> dict[str, Any]:
    """Counters by label from a server's ``/metrics``; ``{"error": …}`` when it cannot answer."""
    try:
        timeout = aiohttp.ClientTimeout(total=METRICS_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            if answer.status != 200:
                return {"url": url, "error": f"answered HTTP {answer.status}"}
            text = await answer.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return {"url": url, "error": str(exc) or type(exc).__name__}
    found: dict[str, Any] = {"url": url, "stages": {}, "fetches": {}, "model_calls": {}}
    try:
        for family in text_string_to_metric_families(text):
            key, outer, inner = _FAMILIES.get(family.name, ("", "", ""))
            for sample in family.samples:
                if key and sample.name.endswith("_total"):
                    found[key].setdefault(sample.labels[outer], {})[sample.labels[inner]] = int(
                        sample.value)
                elif sample.name == "linkarchive_cache_hit_ratio":
                    found["cache_hit_ratio"] = round(sample.value, 4)
    except (ValueError, KeyError):
        return {"url": url, "error": "the answer is not linkarchive's Prometheus metrics"}
    for outcomes in found["stages"].values():
        finished = sum(n for outcome, n in outcomes.items() if outcome != "retry")
        outcomes["success_rate"] = _rate(finished - outcomes.get("failed", 0), finished)
    return found


async def collect(services: Services, *, since: float, metrics_url: str | None) -> dict[str, Any]:
    """Everything ``stats`` shows, as one JSON-ready document."""
    queues = {name: asdict(await services.mailbox.stats(name)) for name in QUEUES}
    async with services.database.read() as conn:
        by_status = await admin_repo.status_counts(conn)
        stages = await admin_repo.stage_counts(conn)
        failures = await admin_repo.recent_failures(conn, since=since)
        outbox = await admin_repo.outbox_backlog(conn) if services.jobs.needs_relay else None
    finished = by_status.get("completed", 0) + by_status.get("failed", 0)
    reasons = Counter(failure.reason for failure in failures)
    hosts = Counter(urlsplit(failure.url).hostname or "-" for failure in failures)
    return {
        "queues": queues,
        "outbox": None if outbox is None else {
            "waiting": outbox[0],
            "oldest_age": 0.0 if outbox[1] is None else round(time.time() - outbox[1], 1)},
        "links": {"by_status": by_status, "stages_done": stages,
                  "success_rate": _rate(by_status.get("completed", 0), finished)},
        "metrics": None if metrics_url is None else await scrape_metrics(metrics_url),
        "failures": {"since": since, "total": len(failures),
                     "by_reason": reasons.most_common(TOP), "by_host": hosts.most_common(TOP)},
    }


def _print(report: dict[str, Any], hours: float) -> None:
    typer.echo("Queues")
    print_table(("QUEUE", "READY", "DELAYED", "IN FLIGHT", "DEAD", "OLDEST AGE"),
                [(name, q["ready"], q["delayed"], q["in_flight"], q["dead"],
                  f"{q['oldest_age']:.1f}s") for name, q in report["queues"].items()])
    if report["outbox"] is not None:
        outbox = report["outbox"]
        typer.echo(f"Outbox (waiting for a server's relay to Redis): {outbox['waiting']}"
                   + (f", oldest {outbox['oldest_age']:.1f}s" if outbox["waiting"] else ""))
    links = report["links"]
    rate = links["success_rate"]
    typer.echo("\nLinks: " + (", ".join(f"{n} {s}" for s, n in sorted(links["by_status"].items()))
                              or "none")
               + ("" if rate is None else f"; {rate:.1%} of finished links completed"))
    typer.echo("Stages done in current runs: " + (", ".join(
        f"{stage} {n}" for stage, n in sorted(links["stages_done"].items())) or "none"))
    metrics = report["metrics"]
    if metrics is not None and "error" in metrics:
        typer.echo(f"\nServer metrics: not available from {metrics['url']}: {metrics['error']}")
    elif metrics is not None:
        typer.echo(f"\nSince the server at {metrics['url']} started")
        print_table(("STAGE", "OUTCOMES", "SUCCESS"), [
            (stage, ", ".join(f"{k} {v}" for k, v in sorted(o.items()) if k != "success_rate"),
             "-" if o["success_rate"] is None else f"{o['success_rate']:.1%}")
            for stage, o in sorted(metrics["stages"].items())])
        for key in ("fetches", "model_calls"):
            for label, outcomes in sorted(metrics[key].items()):
                typer.echo(f"{key.replace('_', ' ')} {label}: "
                           + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
        if "cache_hit_ratio" in metrics:
            typer.echo(f"cache hit ratio: {metrics['cache_hit_ratio']:.1%}")
    failures = report["failures"]
    typer.echo(f"\nFailures in the last {hours:g}h: {failures['total']}")
    for title, rows in (("REASON", failures["by_reason"]), ("HOST", failures["by_host"])):
        if rows:
            print_table((title, "LINKS"), rows)


def stats(hours: Annotated[float, typer.Option(
              "--hours", min=0.01, help="How far back to count failures.")] = 24.0,
          metrics_url: Annotated[str | None, typer.Option(
              help="The server's /metrics [default: this configuration's server].",
              show_default=False)] = None,
          no_metrics: Annotated[bool, typer.Option(
              "--no-metrics", help="Do not ask the server for its counters.")] = False,
          as_json: JsonOption = False) -> None:
    """Show queue depths and ages, link and stage success rates, and recent failures.

    Example: linkarchive stats --hours 6 --json
    """
    since = time.time() - hours * 3600

    async def work(services: Services) -> dict[str, Any]:
        url = None if no_metrics else metrics_url or default_metrics_url(services.settings)
        return await collect(services, since=since, metrics_url=url)

    report = run_with_services(work)
    if as_json:
        print_json(report)
    else:
        _print(report, hours)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
