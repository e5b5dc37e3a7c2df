"""``linkarchive dlq …``: look at, send back, or delete the messages the pipeline gave up on."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from linkarchive.commands.common import (
    JsonOption,
    fail,
    print_json,
    print_table,
    run_with_services,
    when,
)
from linkarchive.engine.actors.context import IMAGE, SCRAPE, TAG
from linkarchive.engine.mailbox import DeadLetter
from linkarchive.services import Services

__all__ = ["QUEUES", "app"]

QUEUES = (SCRAPE, IMAGE, TAG)

app = typer.Typer(help="Dead letters: messages that used up their deliveries.",
                  no_args_is_help=True,
                  rich_markup_mode="markdown")

QueueArgument = Annotated[str | None, typer.Argument(
    help=f"One queue ({', '.join(QUEUES)}); all of them when left out.", show_default=False)]
IdsOption = Annotated[list[str] | None, typer.Option(
    "--id", help="Only this message id; repeat for more.", show_default=False)]


def _queues(queue: str | None) -> tuple[str, ...]:
    if queue is None:
        return QUEUES
    if queue not in QUEUES:
        fail(f"unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")
    return (queue,)


@app.command("list")
def list_(queue: QueueArgument = None,
          limit: Annotated[int, typer.Option(min=1, help="At most this many per queue.")] = 100,
          as_json: JsonOption = False) -> None:
    """List dead letters, newest first, with the reason each was given up on.

    Example: linkarchive dlq list scrape
    """
    queues = _queues(queue)

    async def work(services: Services) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        for name in queues:
            found.extend(await services.mailbox.dead_letters(name, limit=limit))
        return found

    letters = run_with_services(work)
    if as_json:
        print_json([{"id": d.id, "queue": d.queue, "body": dict(d.body), "attempts": d.attempts,
                     "reason": d.reason, "failed_at": d.failed_at, "key": d.key}
                    for d in letters])
        return
    if not letters:
        typer.echo("no dead letters")
        return
    print_table(("QUEUE", "ID", "LINK", "ATTEMPTS", "FAILED", "REASON"),
                [(d.queue, d.id, d.body.get("link", "-"), d.attempts, when(d.failed_at),
                  d.reason) for d in letters])


def _report(counts: dict[str, int], verb: str, as_json: bool) -> None:
    if as_json:
        print_json(counts)
    else:
        typer.echo(", ".join(f"{verb} {count} from {queue}" for queue, count in counts.items()))


@app.command()
def retry(queue: QueueArgument = None, ids: IdsOption = None, as_json: JsonOption = False) -> None:
    """Send dead letters back to their queue with a fresh delivery count.

    A link already marked failed is not run again by its old message: use `link retry ID`.

    Example: linkarchive dlq retry scrape --id 5f0c…
    """
    queues = _queues(queue)

    async def work(services: Services) -> dict[str, int]:
        return {name: await services.mailbox.requeue_dead(name, ids or None) for name in queues}

    _report(run_with_services(work), "requeued", as_json)


@app.command()
def purge(queue: QueueArgument = None, ids: IdsOption = None,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
          as_json: JsonOption = False) -> None:
    """Delete dead letters for good.

    Example: linkarchive dlq purge tag --yes
    """
    queues = _queues(queue)
    if not yes:
        if not sys.stdin.isatty():
            fail("purging deletes messages for good; pass --yes to confirm")
        what = f"{len(ids)} dead letter(s)" if ids else "every dead letter"
        typer.confirm(f"Delete {what} of {', '.join(queues)}?", abort=True)

    async def work(services: Services) -> dict[str, int]:
        return {name: await services.mailbox.purge_dead(name, ids or None) for name in queues}

    _report(run_with_services(work), "purged", as_json)
