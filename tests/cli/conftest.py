"""Running the real ``linkarchive`` commands against a fresh data directory: in this process
through typer's runner (fast), or in a subprocess as a user would."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from linkarchive.cli import app
from linkarchive.config import Settings, load_settings
from linkarchive.services import Services, open_services
from tests.conftest import process_env

Cli = Callable[..., Any]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of this test's commands; a test may add settings to it."""
    return {"LINKARCHIVE_DATA_DIR": str(tmp_path / "data")}


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """Commands point the root logger at their stderr and quieten some loggers; undo that
    after each test."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {logger: logger.level for logger in (root, *logging.root.manager.loggerDict.values())
              if isinstance(logger, logging.Logger)}
    yield
    root.handlers[:] = handlers
    for logger, level in levels.items():
        logger.setLevel(level)


@pytest.fixture
def cli(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("user", "list")`` runs the command in this process (typer's runner) and answers
    its exit code and output; ``check=True`` (the default) fails the test on a non-zero exit."""
    for name in list(os.environ):
        if name.startswith("LINKARCHIVE_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)

    def run(*args: str, check: bool = True, stdin: str | None = None) -> Result:
        outcome = CliRunner().invoke(app, list(args), input=stdin, env=cli_env,
                                     catch_exceptions=False)
        result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
        if check:
            assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    return run


@pytest.fixture
def cli_process(tmp_path: Path, cli_env: dict[str, str]) -> Cli:
    """Like ``cli`` but in a subprocess, ``python -m linkarchive …``, as a user runs it."""

    def run(*args: str, check: bool = True, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "linkarchive", *args], cwd=tmp_path,
                                env=process_env(**cli_env), capture_output=True, text=True,
                                input=stdin if stdin is not None else "", timeout=timeout)
        if check:
            assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    return run


@pytest.fixture
def cli_json(cli: Cli) -> Callable[..., Any]:
    """Run a command with ``--json`` and answer its parsed output."""

    def run(*args: str) -> Any:
        return json.loads(cli(*args, "--json").stdout)

    return run


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(environ=env)


@asynccontextmanager
async def services_of(env: dict[str, str]) -> AsyncIterator[Services]:
    """The services the commands of this environment use, opened in the test's process."""
    async with open_services(settings_of(env)) as services:
        yield services


def one_line_error(result: Any) -> str:
    """The single ``error: …`` line a failed command printed; fails when there is more."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0].removeprefix("error: ")


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}
    needs_header: tuple[str, str] | None = None

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"no"))
        if self.needs_header and self.headers.get(self.needs_header[0]) != self.needs_header[1]:
            status, content_type, body = 401, "application/json", b'{"error": "bad key"}'
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_site() -> Iterator[Callable[..., str]]:
    """``local_site({"/path": (status, content_type, body)}, needs_header=(name, value))``
    serves those paths on 127.0.0.1 from a thread and answers the base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, tuple[int, str, bytes]],
              needs_header: tuple[str, str] | None = None) -> str:
        handler = type("Handler", (_Handler,), {"routes": routes, "needs_header": needs_header})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
