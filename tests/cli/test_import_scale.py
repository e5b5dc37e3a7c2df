"""Big imports: parsing in bounded memory, and a link saved from the phone during an import is
received from the scrape queue before the import's backlog (SQLite and Redis mailboxes)."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from linkarchive.config import load_settings
from linkarchive.links.formats import Entry, read_entries
from linkarchive.links.importing import ImportProgress, ImportReport, import_file
from linkarchive.links.save import save_link
from linkarchive.services import open_services
from linkarchive.storage.repositories.users import create_user
from tests.cli.bookmarks import LazyFile, json_pieces, netscape_pieces, pocket_pieces

BIG_IMPORT = 5_000


@pytest.mark.parametrize(("fmt", "pieces", "count"), [
    ("netscape", netscape_pieces, 20_000),
    ("pocket", pocket_pieces, 100_000),
    ("json", json_pieces, 40_000),
])
def test_parsing_holds_one_entry_not_the_file(
        fmt: str, pieces: Callable[[int], Iterator[bytes]], count: int) -> None:
    raw = LazyFile(pieces(count))
    stream = io.BufferedReader(raw)
    tracemalloc.start()
    try:
        seen = 0
        for item in read_entries(stream, fmt):
            assert isinstance(item, Entry), item
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert raw.size > 5 * 2**20
    assert peak < 2 * 2**20, f"{fmt}: peak {peak} bytes for a {raw.size}-byte file"


def write_file(path: Path, pieces: Iterator[bytes]) -> Path:
    with path.open("wb") as out:
        for piece in pieces:
            out.write(piece)
    return path


@pytest.mark.anyio
@pytest.mark.parametrize("mailbox", ["sqlite", "redis"])
async def test_a_link_saved_during_a_big_import_is_scraped_first(
        mailbox: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"LINKARCHIVE_DATA_DIR": str(tmp_path / "data")}
    if mailbox == "redis":
        env |= {"LINKARCHIVE_REDIS_URL": request.getfixturevalue("redis_url"),
                "LINKARCHIVE_REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    source = write_file(tmp_path / "big.html", netscape_pieces(BIG_IMPORT))
    async with open_services(load_settings(environ=env)) as services:
        async with services.database.write() as tx:
            user = await create_user(tx, "ana@example.com", "hash")
        batches: list[ImportProgress] = []
        reports: list[ImportReport] = []
        first_batch = anyio.Event()

        def progress(step: ImportProgress) -> None:
            batches.append(step)
            first_batch.set()

        async def run_import() -> None:
            reports.append(await import_file(services, user.id, source, progress=progress))

        async with anyio.create_task_group() as tg:
            if services.jobs.needs_relay:
                await tg.start(services.jobs.relay)
            tg.start_soon(run_import)
            await first_batch.wait()
            phone, _ = await save_link(services, user.id, "https://phone.example.com/shared")
            key = f"scrape:{phone.id}:0"
            with anyio.fail_after(30):
                while await _in_outbox(services, key):  # Redis: the relay moves it on
                    await anyio.sleep(0.01)
            queued = await services.mailbox.stats("scrape")
            [first] = await services.mailbox.receive("scrape", max_messages=1, timeout=5)
            assert first.body["link"] == phone.id
            assert queued.depth > 1 and len(batches) < BIG_IMPORT // 500  # still importing
            await services.mailbox.ack(first)
            with anyio.fail_after(120):
                while not reports or await _in_outbox(services):
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
        assert reports[0].new == BIG_IMPORT and reports[0].invalid == 0
        rest = await services.mailbox.receive("scrape", max_messages=50, timeout=5)
        assert rest and {envelope.priority for envelope in rest} == {7}
        assert (await services.mailbox.stats("scrape")).depth == BIG_IMPORT


async def _in_outbox(services, key: str | None = None) -> bool:
    """Whether the outbox (used with a Redis mailbox) still holds ``key``, or anything."""
    if not services.jobs.needs_relay:
        return False
    async with services.database.read() as conn:
        if key is None:
            return bool(await conn.fetchval("SELECT count(*) FROM outbox"))
        return bool(await conn.fetchval("SELECT 1 FROM outbox WHERE msg_key = ?", (key,)))
