"""What every command shares: settings from the command line, running async work with one-line
errors, opening the services, finding a user, and printing for people or as JSON."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import anyio
import orjson
import typer

from linkarchive.config import Settings, load_settings
from linkarchive.errors import LinkArchiveError, NotFound
from linkarchive.logs import configure_logging
from linkarchive.services import Services, open_services
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories import users as users_repo
from linkarchive.storage.repositories.rows import User

__all__ = [
    "JsonOption",
    "UserOption",
    "fail",
    "find_user",
    "print_json",
    "print_table",
    "run_async",
    "run_with_services",
    "settings_from_cli",
    "state",
    "when",
]

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="The user's email (or id).",
                                         show_default=False)]


class _State:
    """The global options of this invocation, set by the app's callback."""

    config: Path | None = None


state = _State()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_from_cli(**server: Any) -> Settings:
    """The settings (defaults < ``--config`` file < environment) with ``server`` overrides."""
    try:
        settings = load_settings(state.config)
    except LinkArchiveError as exc:
        fail(str(exc), 2)
    overrides = {k: v for k, v in server.items() if v is not None}
    return settings.replace(server=overrides) if overrides else settings


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main`` and turn our errors into one line and a non-zero exit."""
    try:
        return anyio.run(main)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except LinkArchiveError as exc:
        fail(str(exc))
    except BaseExceptionGroup as group:
        ours, _ = group.split(LinkArchiveError)
        if ours is None:
            raise
        first: BaseException = ours
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        fail(str(first))


def run_with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Open the services (applying pending migrations), run ``work`` with them, close them.

    Logs go to stderr from warnings up (debug when configured), leaving stdout to the output.
    """
    settings = settings_from_cli()
    configure_logging("debug" if settings.server.log_level == "debug" else "warning")

    async def main() -> T:
        async with open_services(settings) as services:
            return await work(services)

    return run_async(main)


async def find_user(conn: Connection, ref: str) -> User:
    """The user with this email address, or this numeric id; NotFound otherwise."""
    user = await users_repo.find_user_by_email(conn, ref)
    if user is not None:
        return user
    if ref.strip().isdecimal():
        return await users_repo.get_user(conn, int(ref))
    raise NotFound(f"no user with the email address {ref!r}")


def when(timestamp: float | None) -> str:
    """A timestamp for people: UTC, to the second."""
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())
    sys.stdout.write("\n")


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns (with an ellipsis) and padded to exactly that."""
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows in aligned columns under their headers; long cells are cut to fit a line."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [min(60, max([_width(h), *(_width(row[i]) for row in cells)]))
              for i, h in enumerate(headers)]
    for row in (list(headers), *cells):
        typer.echo("  ".join(_fit(v, w) for v, w in zip(row, widths, strict=True)).rstrip())
