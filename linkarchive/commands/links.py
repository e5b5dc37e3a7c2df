"""``linkarchive link …``: save, list, show, retry and delete links from the command line."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from linkarchive.commands.common import (
    JsonOption,
    UserOption,
    fail,
    find_user,
    print_json,
    print_table,
    run_with_services,
    when,
)
from linkarchive.errors import InvalidInput
from linkarchive.links.save import delete_link, retry_link, save_link
from linkarchive.services import Services
from linkarchive.storage.repositories import admin as admin_repo
from linkarchive.storage.repositories import links as links_repo
from linkarchive.storage.repositories.listing import MAX_LIMIT, LinkFilter, list_links
from linkarchive.storage.repositories.rows import LINK_STATUSES, Link, Tombstone
from linkarchive.tagging.normalize import clean_tags, normalize_tag

__all__ = ["app", "link_json"]

app = typer.Typer(help="Save, list, inspect, retry and delete links.", no_args_is_help=True,
                  rich_markup_mode="markdown")

IdArgument = Annotated[str, typer.Argument(help="The link's id.", show_default=False)]


def link_json(link: Link) -> dict[str, Any]:
    return dataclasses.asdict(link)


def _tags(names: list[str]) -> list[str]:
    try:
        return clean_tags(names)
    except InvalidInput as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


def _summary(link: Link) -> str:
    return f"{link.id}  {link.status}  {link.url}"


@app.command("add")
def add(url: Annotated[str, typer.Argument(help="The URL to save.", show_default=False)],
        user: UserOption,
        note: Annotated[str | None, typer.Option(help="A note to keep with it.")] = None,
        tag: Annotated[list[str] | None, typer.Option(
            "--tag", "-t", help="A tag; repeat for more.", show_default=False)] = None,
        as_json: JsonOption = False) -> None:
    """Save a link for a user and queue it for scraping, like a save from the app.

    Example: linkarchive link add https://example.com/post --user ana@example.com -t reading
    """
    tags = _tags(tag or [])

    async def work(services: Services) -> tuple[Link, bool]:
        async with services.database.read() as conn:
            owner = await find_user(conn, user)
        return await save_link(services, owner.id, url, note=note, tags=tags, source="cli")

    link, created = run_with_services(work)
    if as_json:
        print_json({"created": created, "link": link_json(link)})
    else:
        typer.echo(("saved " if created else "already saved ") + _summary(link))


@app.command("list")
def list_(user: UserOption,
          status: Annotated[str | None, typer.Option(
              help=f"Only this status: {', '.join(LINK_STATUSES)}.")] = None,
          tag: Annotated[str | None, typer.Option(help="Only links with this tag.")] = None,
          failed: Annotated[bool, typer.Option(
              "--failed", help="Only failed links, with the reason.")] = False,
          limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
          as_json: JsonOption = False) -> None:
    """List a user's links, newest first.

    Example: linkarchive link list --user ana@example.com --failed
    """
    if failed:
        if status not in (None, "failed"):
            fail("--failed lists failed links; leave out --status or use --status failed")
        status = "failed"
    wanted = None if tag is None else normalize_tag(tag) or tag
    filters = LinkFilter(tag=wanted, status=status)

    async def work(services: Services) -> list[Link]:
        found: list[Link] = []
        cursor: str | None = None
        async with services.database.read() as conn:
            owner = await find_user(conn, user)
            while len(found) < limit:
                page = await list_links(conn, owner.id, filters=filters, cursor=cursor,
                                        limit=min(MAX_LIMIT, limit - len(found)))
                found.extend(page.items)
                if not page.has_more:
                    break
                cursor = page.next_cursor
        return found

    links = run_with_services(work)
    if as_json:
        print_json([link_json(link) for link in links])
        return
    headers = ("ID", "STATUS", "CREATED", "TITLE", "URL", "TAGS")
    rows = [(link.id, link.status, when(link.created_at), link.title or "-", link.url,
             ",".join(t.name for t in link.tags) or "-") for link in links]
    if status == "failed":
        headers = ("ID", "FAILED", "URL", "ERROR")
        rows = [(link.id, when(link.updated_at), link.url, link.processing_error or "-")
                for link in links]
    print_table(headers, rows)


async def _owned(services: Services, link_id: str) -> tuple[int, Link]:
    async with services.database.read() as conn:
        owner = await admin_repo.owner_of(conn, link_id)
        return owner, await links_repo.get_link(conn, owner, link_id)


@app.command()
def show(link_id: IdArgument, as_json: JsonOption = False) -> None:
    """Show everything stored about a link, whoever it belongs to.

    Example: linkarchive link show 0192f0c4a1b27c3e8d5f6a7b8c9d0e1f
    """
    async def work(services: Services) -> Link:
        return (await _owned(services, link_id))[1]

    link = run_with_services(work)
    if as_json:
        print_json(link_json(link))
        return
    for name, value in link_json(link).items():
        if name == "tags":
            value = ", ".join(t["name"] + ("*" if t["generated"] else "") for t in value) or "-"
        elif name == "images":
            value = ", ".join(f"{i['variant']} {i['width']}x{i['height']}" for i in value) or "-"
        elif name in ("created_at", "updated_at", "deleted_at", "published_at"):
            value = when(value)
        typer.echo(f"{name:>17}: {'-' if value is None else value}")


@app.command()
def retry(link_id: IdArgument, as_json: JsonOption = False) -> None:
    """Run the whole pipeline again for a link (a failed one, typically).

    Example: linkarchive link retry 0192f0c4a1b27c3e8d5f6a7b8c9d0e1f
    """
    async def work(services: Services) -> Link:
        owner, _ = await _owned(services, link_id)
        return await retry_link(services, owner, link_id)

    link = run_with_services(work)
    if as_json:
        print_json(link_json(link))
    else:
        typer.echo(f"queued again (run {link.retry_count}) {_summary(link)}")


@app.command()
def delete(link_id: IdArgument, as_json: JsonOption = False) -> None:
    """Delete a link; the user's devices learn of it at their next sync.

    Example: linkarchive link delete 0192f0c4a1b27c3e8d5f6a7b8c9d0e1f
    """
    async def work(services: Services) -> Tombstone:
        async with services.database.read() as conn:
            owner = await admin_repo.owner_of(conn, link_id)
        return await delete_link(services, owner, link_id)

    tombstone = run_with_services(work)
    if as_json:
        print_json(dataclasses.asdict(tombstone))
    else:
        typer.echo(f"deleted {tombstone.id}")
