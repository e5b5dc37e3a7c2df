"""``linkarchive serve`` as a user runs it: a fresh directory, no configuration."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import free_port, process_env, wait_until


def linkarchive(*args: str) -> list[str]:
    return [sys.executable, "-m", "linkarchive", *args]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_on_a_fresh_directory_creates_data_and_answers_probes(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(linkarchive("serve", "--port", str(port)), cwd=tmp_path,
                                   env=process_env(), stdout=output, stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return get(f"http://127.0.0.1:{port}/healthz")[0] == 200
            except OSError:
                return False

        wait_until(healthy, timeout=60, what="/healthz")
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
        assert (tmp_path / "data" / "linkarchive.db").is_file()
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]


def test_bad_setting_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(linkarchive("serve"), cwd=tmp_path, capture_output=True, text=True,
                            env=process_env(LINKARCHIVE_SCRAPE_CONCURRENCY="lots"), timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: LINKARCHIVE_SCRAPE_CONCURRENCY is invalid: expected a whole number between 1 "
        "and 256. LINKARCHIVE_SCRAPE_CONCURRENCY sets: Concurrent scrape actors.")
    assert not (tmp_path / "data").exists()


def test_unreachable_database_fails_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    result = subprocess.run(linkarchive("serve"), cwd=tmp_path, capture_output=True, text=True,
                            env=process_env(), timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error: LINKARCHIVE_DATA_DIR")
