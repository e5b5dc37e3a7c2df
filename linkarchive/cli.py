"""The ``linkarchive`` command: serve the API and engine, and administer a server.

The process commands live here; each administrative group has a module in
``linkarchive.commands`` and is registered below.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from linkarchive.commands import doctor, inspection, links, queues, stats, transfer, users
from linkarchive.commands.common import JsonOption, print_json, run_async, settings_from_cli, state
from linkarchive.logs import configure_logging

__all__ = ["app"]

app = typer.Typer(
    name="linkarchive",
    help="A self-hosted link archive: save a URL, get it scraped, thumbnailed and tagged.\n\n"
         "Every command reads settings from defaults, then the --config TOML file, then "
         "LINKARCHIVE_* variables. Add --json to a command for output a script can read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML settings file (also LINKARCHIVE_CONFIG).",
                 show_default=False),
]


@app.callback()
def main(config: ConfigOption = None) -> None:
    """Settings come from defaults, then the TOML file, then LINKARCHIVE_* variables."""
    state.config = config


def _run(api: bool, engine: bool, host: str | None, port: int | None,
         probes: bool = False) -> None:
    from linkarchive.runtime import run_process

    settings = settings_from_cli(host=host, port=port)
    configure_logging(settings.server.log_level)
    run_async(lambda: run_process(settings, api=api, engine=engine, probes=probes))


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
    """Run only the HTTP API (scale-out: several of these behind a proxy).

    Example: LINKARCHIVE_REDIS_URL=redis://cache:6379/0 linkarchive api --port 8080
    """
    _run(True, False, host, port)


@app.command()
def worker(
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(
        help="Serve /healthz, /readyz and /metrics on this port (no API).")] = None,
) -> None:
    """Run only the engine: scrape, image and tag actors (scale-out: one per host).

    Example: LINKARCHIVE_REDIS_URL=redis://cache:6379/0 linkarchive worker --port 9100
    """
    _run(False, True, host, port, probes=port is not None)


@app.command()
def migrate(as_json: JsonOption = False) -> None:
    """Apply pending database migrations.

    Example: LINKARCHIVE_DATABASE_URL=postgresql://archive@db/archive linkarchive migrate
    """
    from linkarchive.storage.database import open_database

    settings = settings_from_cli()

    async def go() -> list[str]:
        async with open_database(settings.database_url) as database:
            return await database.migrate()

    applied = run_async(go)
    if as_json:
        print_json({"applied": applied})
    else:
        typer.echo(f"applied {len(applied)} migration(s)"
                   + (": " + ", ".join(applied) if applied else ""))


app.add_typer(users.app, name="user")
app.add_typer(links.app, name="link")
transfer.register(app)
app.add_typer(queues.app, name="dlq")
stats.register(app)
doctor.register(app)
inspection.register(app)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
