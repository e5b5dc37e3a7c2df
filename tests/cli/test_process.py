"""The command as a user runs it: help for everything, and a served link counted by ``stats``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.cli.conftest import one_line_error
from tests.conftest import free_port, process_env, wait_until

COMMANDS = ("serve", "api", "worker", "migrate", "import", "export", "stats", "doctor",
            "inspect", "user", "link", "dlq")
GROUPS = {"user": ("add", "list", "disable", "enable", "passwd"),
          "link": ("add", "list", "show", "retry", "delete"),
          "dlq": ("list", "retry", "purge")}
PAGE = (b"<html lang='en'><head><title>Served and scraped</title><meta name='keywords'"
        b" content='metrics, archive'></head><body><p>Hello.</p></body></html>")


def test_help_lists_every_command_with_help_and_an_example(cli, cli_process) -> None:
    top = cli_process("--help").stdout
    for name in COMMANDS:
        assert f" {name} " in top, name
    for name in COMMANDS:
        if name not in GROUPS:
            assert "Example:" in cli(name, "--help").stdout, name
    for group, subcommands in GROUPS.items():
        listed = cli(group, "--help").stdout
        for sub in subcommands:
            assert f" {sub} " in listed, (group, sub)
            assert "Example:" in cli(group, sub, "--help").stdout, (group, sub)


def test_errors_in_a_real_process_are_one_line(cli_process) -> None:
    result = cli_process("link", "add", "https://example.com", "--user", "nobody@example.com",
                         check=False)
    assert one_line_error(result) == "no user with the email address 'nobody@example.com'"


def test_a_link_served_and_scraped_shows_up_in_stats(cli, cli_json, cli_process, cli_env,
                                                     local_site, tmp_path: Path) -> None:
    base = local_site({"/a": (200, "text/html", PAGE)})
    port = free_port()
    cli_env.update(LINKARCHIVE_PORT=str(port), LINKARCHIVE_FETCH_ALLOW_HOSTS="127.0.0.1")
    cli("user", "add", "ana@example.com", "--password", "correct horse battery")
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "linkarchive", "serve"], cwd=tmp_path,
                                  env=process_env(**cli_env), stdout=output,
                                  stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        wait_until(healthy, timeout=60, what="/healthz")
        cli("link", "add", f"{base}/a", "--user", "ana@example.com")

        def completed() -> bool:
            [link] = cli_json("link", "list", "--user", "ana@example.com")
            assert link["status"] != "failed", link["processing_error"]
            return link["status"] == "completed"

        wait_until(completed, timeout=60, interval=0.2, what="the link to complete")
        listed = json.loads(cli_process("link", "list", "-u", "ana@example.com", "--json").stdout)
        assert listed[0]["title"] == "Served and scraped"
        report = cli_json("stats")
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]
    assert report["links"] == {"by_status": {"completed": 1}, "stages_done": {"image": 1,
                                                                              "tag": 1},
                               "success_rate": 1.0}
    metrics = report["metrics"]
    assert metrics["url"] == f"http://127.0.0.1:{port}/metrics"
    assert metrics["stages"]["scrape"] == {"ok": 1, "success_rate": 1.0}
    assert metrics["stages"]["tag"]["ok"] == 1
    assert metrics["fetches"]["page"]["ok"] == 1
    assert 0 <= metrics["cache_hit_ratio"] <= 1
