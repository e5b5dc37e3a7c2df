"""argon2id hashing: round trip, rehash detection, unknown users, and the event loop kept free."""

from __future__ import annotations

import time

import anyio
import pytest

from linkarchive.http.passwords import Passwords

pytestmark = pytest.mark.anyio


async def test_hash_round_trip() -> None:
    passwords = Passwords()
    stored = await passwords.hash("correct horse 배터리 staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify(stored, "correct horse 배터리 staple")
    assert not await passwords.verify(stored, "correct horse battery staple")
    assert stored != await passwords.hash("correct horse 배터리 staple")  # a fresh salt each time


async def test_needs_rehash_when_the_parameters_change() -> None:
    weak = Passwords(time_cost=1, memory_cost=8 * 1024)
    stored = await weak.hash("pw")
    assert not weak.needs_rehash(stored)
    assert Passwords().needs_rehash(stored)
    assert await Passwords().verify(stored, "pw")  # old hashes still verify
    assert Passwords().needs_rehash("$2b$12$not-an-argon2-hash")


@pytest.mark.parametrize("stored", ["$argon2id$garbage", "not a hash", ""])
async def test_a_malformed_stored_hash_never_verifies(stored: str, caplog) -> None:
    assert not await Passwords().verify(stored, "pw-Xq81")
    assert "malformed" in caplog.text
    assert "pw-Xq81" not in caplog.text


async def _median_seconds(call, times: int = 3) -> float:
    durations = []
    for _ in range(times):
        start = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - start)
    return sorted(durations)[times // 2]


async def test_an_unknown_user_costs_about_as_much_as_a_known_one() -> None:
    passwords = Passwords()
    stored = await passwords.hash("pw")
    assert not await passwords.verify(None, "pw")  # builds the dummy hash once
    known = await _median_seconds(lambda: passwords.verify(stored, "wrong"))
    unknown = await _median_seconds(lambda: passwords.verify(None, "wrong"))
    # Without the dummy check an unknown user would answer in microseconds, not milliseconds.
    assert unknown > known / 3


async def test_hashing_runs_off_the_event_loop() -> None:
    passwords = Passwords(memory_cost=64 * 1024, time_cost=3)
    stored = await passwords.hash("pw")
    one = await _median_seconds(lambda: passwords.verify(stored, "pw"), times=1)
    longest_gap = 0.0

    async def tick() -> None:
        nonlocal longest_gap
        last = time.perf_counter()
        while True:
            await anyio.sleep(0.005)
            now = time.perf_counter()
            longest_gap = max(longest_gap, now - last)
            last = now

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        for _ in range(3):
            assert await passwords.verify(stored, "pw")
        tasks.cancel_scope.cancel()
    assert one > 0.1, "the hash must be slow enough for a blocked loop to show"
    assert longest_gap < one / 2, (longest_gap, one)
