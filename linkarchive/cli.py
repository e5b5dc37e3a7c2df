"""The ``linkarchive`` command: serve the API and engine, and administer a server."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer

from linkarchive.config import Settings, load_settings
from linkarchive.errors import LinkArchiveError
from linkarchive.logs import configure_logging

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(
    name="linkarchive",
    help="A self-hosted link archive: save a URL, get it scraped, thumbnailed and tagged.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML settings file (also LINKARCHIVE_CONFIG).",
                 show_default=False),
]


class _State:
    config: Path | None = None


def fail(message: str, code: int = 1) -> None:
    """Print one clear line and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_from_cli(**server: Any) -> Settings:
    try:
        settings = load_settings(_State.config)
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
        first = ours
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        fail(str(first))
    raise AssertionError("unreachable")


@app.callback()
def main(config: ConfigOption = None) -> None:
    """Settings come from defaults, then the TOML file, then LINKARCHIVE_* variables."""
    _State.config = config


def _run(api: bool, engine: bool, host: str | None, port: int | None) -> None:
    from linkarchive.runtime import run_process

    settings = settings_from_cli(host=host, port=port)
    configure_logging(settings.server.log_level)
    run_async(lambda: run_process(settings, api=api, engine=engine))


HostOption = Annotated[str | None, typer.Option(help="Listen address [default: 127.0.0.1].")]
PortOption = Annotated[int | None, typer.Option(help="Listen port [default: 8080].")]


@app.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Run the API and the engine in one process (the small-server setup).

    Example: linkarchive serve --host 0.0.0.0 --port 8080
    """
    _run(True, True, host, port)


@app.command()
def api(host: HostOption = None, port: PortOption = None) -> None:
    """Run only the HTTP API (scale-out: several of these behind a proxy)."""
    _run(True, False, host, port)


@app.command()
def worker() -> None:
    """Run only the engine: scrape, image and tag actors (scale-out: one per host)."""
    _run(False, True, None, None)


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from linkarchive.storage.database import open_database

    settings = settings_from_cli()

    async def go() -> list[str]:
        async with open_database(settings.database_url) as database:
            return await database.migrate()

    applied = run_async(go)
    typer.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied)
                                                          if applied else ""))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
