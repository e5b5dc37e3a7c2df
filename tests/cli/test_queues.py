"""``linkarchive dlq …`` and ``linkarchive stats`` against the real SQLite mailbox and links."""

from __future__ import annotations

import time

import anyio
import pytest

from linkarchive.storage.repositories import pipeline as records
from tests.cli.conftest import one_line_error, services_of

USER = "ana@example.com"


@pytest.fixture
def links(cli, cli_json) -> list[str]:
    cli("user", "add", USER, "--password", "correct horse battery")
    return [cli_json("link", "add", url, "--user", USER)["link"]["id"]
            for url in ("https://a.example.com/1", "https://b.example.com/2",
                        "https://b.example.com/3")]


def dead_letter_one(env: dict[str, str], reason: str) -> str:
    """Receive one scrape message and give up on it, as the pool does after its deliveries."""
    async def run() -> str:
        async with services_of(env) as services:
            [envelope] = await services.mailbox.receive("scrape", max_messages=1, timeout=1)
            await services.mailbox.dead_letter(envelope, reason)
            return envelope.id

    return anyio.run(run)


def test_list_retry_and_purge_dead_letters(cli, cli_json, cli_env, links) -> None:
    assert cli("dlq", "list").stdout.strip() == "no dead letters"
    first = dead_letter_one(cli_env, "the handler timed out")
    letters = cli_json("dlq", "list")
    assert [(d["queue"], d["id"], d["reason"]) for d in letters] == [
        ("scrape", first, "the handler timed out")]
    assert letters[0]["body"]["link"] in links
    table = cli("dlq", "list", "scrape").stdout.splitlines()
    assert table[0].split()[:3] == ["QUEUE", "ID", "LINK"] and first in table[1]
    assert cli_json("dlq", "list", "tag") == []
    wrong = cli("dlq", "list", "nope", check=False)
    assert one_line_error(wrong) == "unknown queue 'nope'; expected one of scrape, image, tag"

    assert cli_json("dlq", "retry", "scrape", "--id", first) == {"scrape": 1}
    assert cli_json("dlq", "list") == []
    second = dead_letter_one(cli_env, "gave up")
    assert cli("dlq", "retry", "--id", "not-there").stdout.strip() == (
        "requeued 0 from scrape, requeued 0 from image, requeued 0 from tag")

    refused = cli("dlq", "purge", check=False)
    assert one_line_error(refused) == "purging deletes messages for good; pass --yes to confirm"
    assert cli_json("dlq", "list")[0]["id"] == second
    assert cli_json("dlq", "purge", "--yes") == {"scrape": 1, "image": 0, "tag": 0}
    assert cli_json("dlq", "list") == []


def test_stats_counts_queues_links_and_recent_failures(cli, cli_json, cli_env, links,
                                                       local_site) -> None:
    dead_letter_one(cli_env, "the handler crashed")

    async def fail_two() -> None:
        async with services_of(cli_env) as services, services.database.write() as tx:
            for link_id in links[1:]:
                await records.begin_scrape(tx, link_id, run=0)
                await records.mark_failed(tx, link_id, "the site answered 503", run=0)

    anyio.run(fail_two)
    report = cli_json("stats", "--no-metrics")
    scrape = report["queues"]["scrape"]
    assert (scrape["ready"], scrape["dead"]) == (2, 1)
    assert scrape["oldest_age"] >= 0 and report["queues"]["tag"]["ready"] == 0
    assert report["links"]["by_status"] == {"pending": 1, "failed": 2}
    assert report["links"]["success_rate"] == 0.0
    assert report["metrics"] is None and report["outbox"] is None  # SQLite needs no outbox
    failures = report["failures"]
    assert failures["total"] == 2 and failures["since"] < time.time()
    assert failures["by_reason"] == [["the site answered 503", 2]]
    assert failures["by_host"] == [["b.example.com", 2]]

    text = cli("stats", "--metrics-url", "http://127.0.0.1:9/metrics").stdout
    assert "QUEUE   READY  DELAYED  IN FLIGHT  DEAD  OLDEST AGE" in text
    assert "Links: 2 failed, 1 pending; 0.0% of finished links completed" in text
    assert "Server metrics: not available from http://127.0.0.1:9/metrics" in text
    assert "Failures in the last 24h: 2" in text and "b.example.com  2" in text

    page = local_site({"/metrics": (200, "text/html", b"<html><body>Hello</body></html>")})
    wrong = cli_json("stats", "--metrics-url", f"{page}/metrics")["metrics"]
    assert wrong["error"] == "the answer is not linkarchive's Prometheus metrics"
