"""``linkarchive link …`` against a real SQLite database and mailbox."""

from __future__ import annotations

import anyio
import pytest

from linkarchive.storage.repositories import pipeline as records
from tests.cli.conftest import one_line_error, services_of

USER = "ana@example.com"


@pytest.fixture
def user(cli) -> str:
    cli("user", "add", USER, "--password", "correct horse battery")
    return USER


def scrape_depth(env: dict[str, str]) -> int:
    async def depth() -> int:
        async with services_of(env) as services:
            return (await services.mailbox.stats("scrape")).ready

    return anyio.run(depth)


def test_add_saves_once_and_queues_a_scrape(cli, cli_json, cli_env, user) -> None:
    saved = cli_json("link", "add", "https://example.com/post?utm_source=x#top", "--user", user,
                     "--note", "read later", "--tag", "Reading", "-t", "한국어")
    link = saved["link"]
    assert saved["created"] is True and link["status"] == "pending"
    assert link["url"] == "https://example.com/post" and link["note"] == "read later"
    assert [t["name"] for t in link["tags"]] == ["reading", "한국어"]
    again = cli("link", "add", "https://example.com/post", "--user", user).stdout
    assert again.startswith(f"already saved {link['id']}")
    assert scrape_depth(cli_env) == 1


def test_add_refuses_bad_input_with_one_line(cli, user) -> None:
    bad_url = cli("link", "add", "javascript:alert(1)", "--user", user, check=False)
    assert one_line_error(bad_url) == "only http and https URLs can be saved"
    bad_tag = cli("link", "add", "https://example.com", "--user", user, "-t", "2019",
                  check=False)
    assert "is not a usable tag" in one_line_error(bad_tag)
    nobody = cli("link", "add", "https://example.com", "--user", "x@example.com", check=False)
    assert one_line_error(nobody) == "no user with the email address 'x@example.com'"


def test_list_filters_and_pages_newest_first(cli, cli_json, user) -> None:
    for n in range(5):
        tags = ["even"] if n % 2 == 0 else []
        cli("link", "add", f"https://example.com/{n}", "--user", user,
            *(f"--tag={t}" for t in tags))
    urls = [link["url"] for link in cli_json("link", "list", "--user", user, "--limit", "3")]
    assert urls == ["https://example.com/4", "https://example.com/3", "https://example.com/2"]
    tagged = cli_json("link", "list", "--user", user, "--tag", "Even")
    assert [link["url"][-1] for link in tagged] == ["4", "2", "0"]
    assert len(cli_json("link", "list", "--user", user, "--status", "pending")) == 5
    assert cli_json("link", "list", "--user", user, "--status", "completed") == []
    wrong = cli("link", "list", "--user", user, "--status", "lost", check=False)
    assert one_line_error(wrong).startswith("unknown status 'lost'")
    table = cli("link", "list", "--user", user).stdout.splitlines()
    assert table[0].split() == ["ID", "STATUS", "CREATED", "TITLE", "URL", "TAGS"]
    assert len(table) == 6


def test_failed_links_show_their_reason_and_can_be_retried(cli, cli_json, cli_env,
                                                           user) -> None:
    ok = cli_json("link", "add", "https://example.com/fine", "--user", user)["link"]
    bad = cli_json("link", "add", "https://example.com/gone", "--user", user)["link"]

    async def fail_one() -> None:
        async with services_of(cli_env) as services, services.database.write() as tx:
            await records.begin_scrape(tx, bad["id"], run=0)
            await records.mark_failed(tx, bad["id"], "the site answered 404 Not Found", run=0)

    anyio.run(fail_one)
    failed = cli_json("link", "list", "--user", user, "--failed")
    assert [(link["id"], link["processing_error"]) for link in failed] == [
        (bad["id"], "the site answered 404 Not Found")]
    table = cli("link", "list", "--user", user, "--failed").stdout
    assert "ERROR" in table and "404 Not Found" in table and ok["id"] not in table

    retried = cli_json("link", "retry", bad["id"])
    assert retried["status"] == "pending" and retried["retry_count"] == 1
    assert retried["processing_error"] is None
    assert scrape_depth(cli_env) == 3  # both first runs, still queued, and the new run


def test_show_and_delete_find_the_owner_themselves(cli, cli_json, user) -> None:
    link = cli_json("link", "add", "https://example.com/a", "--user", user, "-t", "x")["link"]
    shown = cli_json("link", "show", link["id"])
    assert shown["url"] == "https://example.com/a" and shown["user_id"] == 1
    text = cli("link", "show", link["id"]).stdout
    assert "url: https://example.com/a" in text and "tags: x" in text
    assert cli("link", "delete", link["id"]).stdout.strip() == f"deleted {link['id']}"
    assert cli_json("link", "list", "--user", user) == []
    gone = cli("link", "show", link["id"], check=False)
    assert one_line_error(gone) == f"no link {link['id']}"
    assert one_line_error(cli("link", "delete", link["id"], check=False)) == (
        f"no link {link['id']}")
