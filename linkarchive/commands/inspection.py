"""``linkarchive inspect``: what the scraper extracts from a saved page or a live URL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from linkarchive.commands.common import fail, print_json, run_async, settings_from_cli
from linkarchive.errors import LinkArchiveError
from linkarchive.scraping.fetch import Fetcher
from linkarchive.scraping.inspect import inspect_file, inspect_url

__all__ = ["inspect", "register"]


def inspect(target: Annotated[str, typer.Argument(
                metavar="PATH_OR_URL", help="A saved HTML file (.gz too) or an http(s) URL.",
                show_default=False)],
            url: Annotated[str | None, typer.Option(
                help="Where a saved file came from, to resolve its relative links.")] = None
            ) -> None:
    """Print the metadata extracted from a page as JSON (title, description, image, …).

    A URL is fetched the way the pipeline fetches, through the same address guard.

    Example: linkarchive inspect page.html --url https://example.com/post

    Example: linkarchive inspect https://example.com/post
    """
    settings = settings_from_cli()
    if Path(target).is_file():
        try:
            found: dict[str, Any] = inspect_file(target, url)
        except LinkArchiveError as exc:
            fail(str(exc))
    elif target.lower().startswith(("http://", "https://")):
        async def fetch() -> dict[str, Any]:
            async with Fetcher(settings.fetch) as fetcher:
                return await inspect_url(target, fetcher)

        found = run_async(fetch)
    else:
        fail(f"{target} is neither a file nor an http(s) URL")
    print_json(found)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
