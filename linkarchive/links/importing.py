"""Importing a bookmark file for one user: streamed, deduplicated, saved a batch per transaction.

The file is parsed in a worker thread a batch at a time, so memory holds one batch whatever the
file's size. Each transaction saves up to a batch of links with their scrape jobs, queued at
``PRIORITY_BULK`` so that a link saved from the phone meanwhile is scraped first; it also ends
after ``TRANSACTION_SECONDS``, because it holds the user's write lock and a save from the phone
waits for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import anyio

from linkarchive.engine.actors.context import SCRAPE
from linkarchive.errors import InvalidInput, InvalidURL, UnavailableError
from linkarchive.links.formats import FORMATS, Entry, Rejected, detect_format, read_entries
from linkarchive.links.save import PRIORITY_BULK
from linkarchive.scraping.urls import normalize_url, url_hash
from linkarchive.services import Services
from linkarchive.storage.repositories import links as links_repo
from linkarchive.tagging.normalize import clean_tags

__all__ = ["BATCH_SIZE", "TRANSACTION_SECONDS", "BatchResult", "ImportProgress", "ImportReport",
           "import_file", "save_batch"]

BATCH_SIZE = 500
TRANSACTION_SECONDS = 0.05
# Rejections listed in the report; past this many only their count grows (memory stays bounded).
MAX_LISTED = 10_000
SOURCE = "import"


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """What became of the first ``taken`` entries; the caller passes the rest again."""

    taken: int
    new: int
    duplicate: int
    rejected: tuple[Rejected, ...]


@dataclass(frozen=True, kw_only=True)
class ImportProgress:
    """How far an import is: bytes of the file read, and what became of its entries so far."""

    read_bytes: int
    total_bytes: int
    new: int
    duplicate: int
    invalid: int


@dataclass(frozen=True, kw_only=True)
class ImportReport:
    """Counts of the whole import and the entries it could not take, in file order."""

    format: str
    new: int
    duplicate: int
    invalid: int
    rejected: tuple[Rejected, ...]
    seconds: float

    @property
    def unlisted(self) -> int:
        """Rejections counted but not listed (past ``MAX_LISTED``)."""
        return self.invalid - len(self.rejected)


async def save_batch(services: Services, user_id: int, entries: Sequence[Entry], *,
                     fetch: bool = True,
                     seconds: float = TRANSACTION_SECONDS) -> BatchResult:
    """Save entries for the user in one transaction, skipping URLs they already have, until
    they are all saved or ``seconds`` have passed; ``taken`` says how many were handled.

    With ``fetch`` each new link gets a scrape job at bulk priority; without, it is stored
    ``completed`` with the file's title and nothing is fetched.
    """
    rejected: list[Rejected] = []
    new = duplicate = taken = 0
    async with services.database.write() as tx:
        deadline = time.monotonic() + seconds
        for entry in entries:
            if taken and time.monotonic() > deadline:
                break
            taken += 1
            try:
                url = normalize_url(entry.url)
            except InvalidURL as exc:
                rejected.append(Rejected(line=entry.line, reason=str(exc), text=entry.url[:200]))
                continue
            title = None if entry.title == entry.url else entry.title
            link, created = await links_repo.create_or_get(
                tx, user_id, url, url_hash(url), note=entry.note, source=SOURCE,
                tags=clean_tags(entry.tags, drop_invalid=True), title=title, favorite=entry.favorite,
                archived=entry.archived, created_at=entry.created_at, completed=not fetch)
            if not created:
                duplicate += 1
                continue
            new += 1
            if fetch:
                await services.jobs.enqueue_within(
                    tx, SCRAPE, {"link": link.id, "run": 0}, key=f"{SCRAPE}:{link.id}:0",
                    priority=PRIORITY_BULK)
    if new:
        # One invalidation per transaction; no per-link events, which would flood sockets.
        try:
            await services.cache.bump_user(user_id)
        except UnavailableError:
            pass  # the cached pages expire with their TTL
    return BatchResult(taken=taken, new=new, duplicate=duplicate, rejected=tuple(rejected))


def _take(entries: Iterator[Entry | Rejected], count: int) -> list[Entry | Rejected]:
    return list(islice(entries, count))


def _open(path: Path, fmt: str) -> tuple[BinaryIO, str, int]:
    stream = path.open("rb")
    try:
        if fmt == "auto":
            fmt = detect_format(stream.peek(8192)[:8192], path.name)
        elif fmt not in FORMATS:
            raise InvalidInput(f"unknown format {fmt!r}; expected auto or one of "
                               f"{', '.join(FORMATS)}")
        return stream, fmt, path.stat().st_size
    except BaseException:
        stream.close()
        raise


async def import_file(services: Services, user_id: int, path: str | Path, *, fmt: str = "auto",
                      fetch: bool = True, batch_size: int = BATCH_SIZE,
                      seconds: float = TRANSACTION_SECONDS,
                      progress: Callable[[ImportProgress], None] | None = None) -> ImportReport:
    """Import a Netscape HTML, Pocket CSV or JSON export (``fmt`` "auto" guesses which).

    ``batch_size`` entries are parsed at a time; each transaction lasts at most ``seconds``.
    """
    started = time.monotonic()
    try:
        stream, fmt, total = await anyio.to_thread.run_sync(_open, Path(path), fmt)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    new = duplicate = invalid = 0
    listed: list[Rejected] = []

    def reject(items: Sequence[Rejected]) -> None:
        nonlocal invalid
        invalid += len(items)
        listed.extend(items[:max(0, MAX_LISTED - len(listed))])

    try:
        entries = read_entries(stream, fmt)
        while batch := await anyio.to_thread.run_sync(_take, entries, batch_size):
            reject([item for item in batch if isinstance(item, Rejected)])
            pending = [item for item in batch if isinstance(item, Entry)]
            while pending:
                result = await save_batch(services, user_id, pending, fetch=fetch, seconds=seconds)
                pending = pending[result.taken:]
                new, duplicate = new + result.new, duplicate + result.duplicate
                reject(result.rejected)
            if progress is not None:
                progress(ImportProgress(read_bytes=stream.tell(), total_bytes=total, new=new,
                                        duplicate=duplicate, invalid=invalid))
    finally:
        await anyio.to_thread.run_sync(stream.close)
    listed.sort(key=lambda item: item.line)
    return ImportReport(format=fmt, new=new, duplicate=duplicate, invalid=invalid,
                        rejected=tuple(listed), seconds=time.monotonic() - started)
