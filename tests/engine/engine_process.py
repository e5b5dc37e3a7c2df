"""An engine process for the crash tests: the real supervisor and mailbox, one test actor.

The actor's effect is idempotent: it adds ``n`` to a running total once per message, recorded in
its own SQLite file, so a redelivered message is handled again but applied once.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import asynccontextmanager

import anyio

from linkarchive.config import load_settings
from linkarchive.engine.mailbox import Envelope
from linkarchive.engine.pool import ActorSpec
from linkarchive.logs import configure_logging
from linkarchive.runtime import run_process

EFFECTS = os.environ["ENGINE_TEST_EFFECTS"]
DELAY = float(os.environ.get("ENGINE_TEST_DELAY", "0.02"))


def init_effects(path: str) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE IF NOT EXISTS applied (n INTEGER PRIMARY KEY);"
            "CREATE TABLE IF NOT EXISTS calls (n INTEGER);"
            "CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 1), sum INTEGER);"
            "INSERT OR IGNORE INTO total VALUES (1, 0);")


def apply_effect(n: int) -> None:
    with sqlite3.connect(EFFECTS, timeout=30, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO calls VALUES (?)", (n,))
        if db.execute("INSERT OR IGNORE INTO applied VALUES (?)", (n,)).rowcount:
            db.execute("UPDATE total SET sum = sum + ? WHERE id = 1", (n,))
        db.execute("COMMIT")


async def handle(envelope: Envelope) -> None:
    await anyio.sleep(DELAY)
    await anyio.to_thread.run_sync(apply_effect, envelope.body["n"])


@asynccontextmanager
async def pipeline(services):
    yield [ActorSpec(queue="work", handler=handle, concurrency=4, timeout=30)]


if __name__ == "__main__":
    init_effects(EFFECTS)
    settings = load_settings()
    configure_logging("info", json=False)
    anyio.run(lambda: run_process(settings, api=False, engine=True, pipeline=pipeline))
    sys.exit(0)
