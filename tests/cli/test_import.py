"""``linkarchive import`` and ``export``: a realistic browser export, Pocket CSV, our JSON, and
import(export(x)) == x, through the real commands and a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.cli.bookmarks import BROWSER_EXPORT, DUPLICATES, EXPECTED, REJECTED_LINES
from tests.cli.conftest import one_line_error, services_of

USERS = ("ana@example.com", "bo@example.com", "cy@example.com")


@pytest.fixture
def users(cli) -> tuple[str, ...]:
    for email in USERS:
        cli("user", "add", email, "--password", "correct horse battery")
    return USERS


def exported(cli, user: str) -> dict[str, dict[str, Any]]:
    """The user's links as our JSON export states them, by URL."""
    items = json.loads(cli("export", "--user", user, "--format", "json").stdout)
    return {item["url"]: item for item in items}


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def kept(item: dict[str, Any], *, to_the_second: bool = False) -> tuple[Any, ...]:
    """What import(export(x)) must keep of a link."""
    created = item["created_at"]
    if to_the_second:
        created = created[:19]  # HTML stores whole seconds, as browsers do
    return (item["title"], sorted(item["tags"]), item["note"], item["favorite"],
            item["archived"], created)


def test_browser_export_keeps_folders_titles_dates_and_reports_every_bad_line(
        cli, cli_json, cli_env, users, tmp_path: Path) -> None:
    source = tmp_path / "bookmarks.html"
    source.write_text(BROWSER_EXPORT, encoding="utf-8")
    report = cli_json("import", str(source), "--user", users[0], "--no-fetch")
    assert (report["format"], report["new"], report["duplicate"]) == (
        "netscape", len(EXPECTED), DUPLICATES)
    assert report["invalid"] == len(REJECTED_LINES) and report["unlisted"] == 0
    assert {r["line"] for r in report["rejected"]} == REJECTED_LINES
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert reasons[min(REJECTED_LINES)] == "only http and https URLs can be saved"
    assert "no HREF" in " ".join(reasons.values())

    links = exported(cli, users[0])
    assert set(links) == set(EXPECTED)
    for url, (title, tags, note, created_at) in EXPECTED.items():
        item = links[url]
        assert (item["title"], sorted(item["tags"]), item["note"]) == (title, tags, note)
        assert item["status"] == "completed"  # --no-fetch: nothing to crawl
        if created_at is not None:
            assert item["created_at"] == iso(created_at)

    async def queued() -> int:
        async with services_of(cli_env) as services:
            return (await services.mailbox.stats("scrape")).depth

    assert anyio.run(queued) == 0

    again = cli("import", str(source), "--user", users[0]).stdout.splitlines()
    assert again[0].startswith(f"imported netscape: 0 new, {len(EXPECTED) + DUPLICATES} "
                               f"duplicate, {len(REJECTED_LINES)} invalid")
    assert again[1].startswith(f"  line {min(REJECTED_LINES)}: only http and https URLs")


def test_fetching_import_queues_scrapes_and_keeps_the_files_titles(cli, cli_json, cli_env,
                                                                   users, tmp_path) -> None:
    source = tmp_path / "bookmarks.html"
    source.write_text(BROWSER_EXPORT, encoding="utf-8")
    assert cli_json("import", str(source), "--user", users[0])["new"] == len(EXPECTED)
    links = exported(cli, users[0])
    assert {item["status"] for item in links.values()} == {"pending"}
    assert links["https://news.ycombinator.com/"]["title"] == "Hacker News"

    async def jobs() -> list[int]:
        async with services_of(cli_env) as services:
            received = await services.mailbox.receive("scrape", max_messages=100, timeout=1)
        return [envelope.priority for envelope in received]

    assert anyio.run(jobs) == [7] * len(EXPECTED)  # bulk: behind anything saved from the app


def test_round_trip_through_json_and_html_keeps_everything(cli, cli_json, users,
                                                           tmp_path: Path) -> None:
    ana, bo, cy = users
    browser = tmp_path / "bookmarks.html"
    browser.write_text(BROWSER_EXPORT, encoding="utf-8")
    cli("import", str(browser), "--user", ana, "--no-fetch")
    flagged = tmp_path / "flagged.jsonl"  # JSON Lines is read too
    flagged.write_text(
        json.dumps({"url": "https://example.net/fav", "title": "Favourite, archived",
                    "tags": ["keep"], "note": "line one\nline two <&>", "favorite": True,
                    "archived": True, "created_at": "2021-02-03T04:05:06.789Z"}) + "\n"
        + json.dumps({"url": "https://example.net/plain", "created_at": 1612324000}) + "\n",
        encoding="utf-8")
    cli("import", str(flagged), "--user", ana)
    original = exported(cli, ana)
    assert original["https://example.net/fav"]["created_at"] == "2021-02-03T04:05:06.789000Z"
    assert original["https://example.net/fav"]["favorite"] is True

    as_json, as_html = tmp_path / "ana.json", tmp_path / "ana.html"
    cli("export", "--user", ana, "--format", "json", "-o", str(as_json))
    cli("export", "--user", ana, "-o", str(as_html))
    assert cli_json("import", str(as_json), "--user", bo)["new"] == len(original)
    assert cli_json("import", str(as_html), "--user", cy)["new"] == len(original)

    from_json, from_html = exported(cli, bo), exported(cli, cy)
    assert set(from_json) == set(from_html) == set(original)
    for url, item in original.items():
        assert kept(from_json[url]) == kept(item), url
        assert kept(from_html[url], to_the_second=True) == kept(item, to_the_second=True), url


def test_pocket_csv(cli, cli_json, users, tmp_path: Path) -> None:
    source = tmp_path / "part_000000.csv"
    source.write_text(
        "title,url,time_added,tags,status\n"
        '"Why ""quotes"", commas",https://example.com/a,1700000000,python|reading,unread\n'
        "https://example.com/b,https://example.com/b,1700000001,,archive\n"
        "한국어 제목 🎉,https://example.com/c,1700000002,한국,unread\n"
        "Bad,notaurl,1700000003,,unread\n"
        "Bad date,https://example.com/d,yesterday,,unread\n", encoding="utf-8")
    report = cli_json("import", str(source), "--user", users[0])
    assert (report["format"], report["new"], report["invalid"]) == ("pocket", 3, 2)
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (5, "only http and https URLs can be saved"), (6, "time_added: not a date: 'yesterday'")]
    links = exported(cli, users[0])
    assert kept(links["https://example.com/a"])[:2] == ('Why "quotes", commas',
                                                         ["python", "reading"])
    assert links["https://example.com/b"]["title"] is None  # Pocket's stand-in title
    assert links["https://example.com/b"]["archived"] is True
    assert links["https://example.com/c"]["tags"] == ["한국"]
    assert links["https://example.com/c"]["created_at"].startswith("2023-11-14T22:13:22")


def test_unusable_files_fail_with_one_line(cli, users, tmp_path: Path) -> None:
    mystery = tmp_path / "mystery.bin"
    mystery.write_bytes(b"\x00\x01 nothing we know")
    assert one_line_error(cli("import", str(mystery), "--user", users[0], check=False)) == (
        "cannot tell the file's format; pass --format netscape, pocket or json")
    broken = tmp_path / "broken.json"
    broken.write_text('[\n{"url": "https://example.com/ok"},\n{"url": \n', encoding="utf-8")
    result = cli("import", str(broken), "--user", users[0], check=False)
    assert result.returncode == 0
    assert "1 new" in result.stdout and "line 3: not valid JSON" in result.stdout
    missing = cli("import", str(tmp_path / "nope.html"), "--user", users[0], check=False)
    assert one_line_error(missing) == (
        f"cannot read {tmp_path / 'nope.html'}: No such file or directory")


def test_pockets_html_export_marks_its_read_archive(cli, cli_json, users, tmp_path) -> None:
    source = tmp_path / "ril_export.html"
    source.write_text(
        "<!DOCTYPE html>\n<html><head><title>Pocket Export</title></head><body>\n"
        "<h1>Unread</h1>\n<ul>\n"
        '<li><a href="https://example.com/unread" time_added="1500000000" tags="news,later">'
        "Unread one</a></li>\n</ul>\n<h1>Read Archive</h1>\n<ul>\n"
        '<li><a href="https://example.com/read" time_added="1500000001" tags="">Read one</a>'
        "</li>\n</ul>\n</body></html>\n", encoding="utf-8")
    assert cli_json("import", str(source), "--user", users[0])["new"] == 2
    links = exported(cli, users[0])
    unread, read = links["https://example.com/unread"], links["https://example.com/read"]
    assert (unread["archived"], sorted(unread["tags"])) == (False, ["later", "news"])
    assert (read["archived"], read["title"]) == (True, "Read one")
    assert read["created_at"] == iso(1500000001)
