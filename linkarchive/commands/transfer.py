"""``linkarchive import`` and ``linkarchive export``: bookmark files in and out."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from linkarchive.commands.common import (
    JsonOption,
    UserOption,
    find_user,
    print_json,
    run_with_services,
)
from linkarchive.links.exporting import export_links
from linkarchive.links.importing import ImportProgress, ImportReport, import_file
from linkarchive.services import Services

__all__ = ["export", "import_", "register"]


class ImportFormat(StrEnum):
    auto = "auto"
    netscape = "netscape"
    pocket = "pocket"
    json = "json"


class ExportFormat(StrEnum):
    html = "html"
    json = "json"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[ImportProgress], None] | None]:
    """A progress bar on stderr when it is a terminal; no callback otherwise."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("importing"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[counts]}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None, counts="")

        def update(step: ImportProgress) -> None:
            bar.update(task, total=step.total_bytes, completed=step.read_bytes,
                       counts=f"{step.new} new, {step.duplicate} duplicate, "
                              f"{step.invalid} invalid")

        yield update


def _print_report(report: ImportReport, as_json: bool) -> None:
    rejected = [{"line": r.line, "reason": r.reason, "text": r.text} for r in report.rejected]
    if as_json:
        print_json({"format": report.format, "new": report.new, "duplicate": report.duplicate,
                    "invalid": report.invalid, "rejected": rejected,
                    "unlisted": report.unlisted, "seconds": round(report.seconds, 3)})
        return
    typer.echo(f"imported {report.format}: {report.new} new, {report.duplicate} duplicate, "
               f"{report.invalid} invalid in {report.seconds:.1f}s")
    for item in report.rejected:
        text = f" ({item.text})" if item.text else ""
        typer.echo(f"  line {item.line}: {item.reason}{text}")
    if report.unlisted:
        typer.echo(f"  … and {report.unlisted} more not listed")


def import_(file: Annotated[Path, typer.Argument(help="The bookmark file.", show_default=False)],
            user: UserOption,
            fmt: Annotated[ImportFormat, typer.Option(
                "--format", "-f", help="The file's format; auto guesses it.")] = ImportFormat.auto,
            no_fetch: Annotated[bool, typer.Option(
                "--no-fetch", help="Keep the file's titles and crawl nothing: links are "
                                   "completed at once.")] = False,
            as_json: JsonOption = False) -> None:
    """Import bookmarks: browser or linkding/Raindrop HTML, Pocket CSV, or our JSON export.

    Folders become tags, duplicates of saved links are skipped, and every line that cannot be
    taken is reported with the reason. New links are scraped after any saved from the app.

    Example: linkarchive import bookmarks.html --user ana@example.com
    """
    with _progress(sys.stderr.isatty() and not as_json) as progress:
        async def work(services: Services) -> ImportReport:
            async with services.database.read() as conn:
                owner = await find_user(conn, user)
            return await import_file(services, owner.id, file, fmt=fmt.value,
                                     fetch=not no_fetch, progress=progress)

        report = run_with_services(work)
    _print_report(report, as_json)


def export(user: UserOption,
           fmt: Annotated[ExportFormat, typer.Option(
               "--format", "-f", help="Netscape bookmark HTML or JSON.")] = ExportFormat.html,
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="Write here instead of standard output.",
               dir_okay=False)] = None) -> None:
    """Export a user's links with their tags and notes; import reads both formats back.

    Example: linkarchive export --user ana@example.com --format json -o links.json
    """
    partial = None if output is None else output.with_name(output.name + ".partial")

    async def work(services: Services) -> int:
        async with services.database.read() as conn:
            owner = await find_user(conn, user)
        if partial is None:
            return await export_links(services, owner.id, sys.stdout.buffer, fmt=fmt.value)
        stream: BinaryIO = await anyio.to_thread.run_sync(partial.open, "wb")
        try:
            return await export_links(services, owner.id, stream, fmt=fmt.value)
        finally:
            await anyio.to_thread.run_sync(stream.close)

    try:
        count = run_with_services(work)
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    if partial is not None and output is not None:
        os.replace(partial, output)
    if output is not None:
        typer.echo(f"exported {count} link(s) to {output}", err=True)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("export")(export)
