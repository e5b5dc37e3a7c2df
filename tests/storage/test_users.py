"""Accounts, sessions and rotating refresh tokens on both dialects."""

from __future__ import annotations

import time

import pytest

from linkarchive.errors import Conflict, NotFound
from linkarchive.storage import repositories as repo
from linkarchive.storage.database import Database
from tests.storage.conftest import MakeUser

pytestmark = pytest.mark.anyio


async def test_users_create_find_list_count(database: Database, make_user: MakeUser) -> None:
    alice = await make_user("Alice@Example.com")
    bob = await make_user("bob@example.com")
    assert alice.email == "Alice@Example.com" and not alice.is_admin and not alice.disabled
    with pytest.raises(Conflict):
        await make_user("ALICE@example.COM ")
    async with database.read() as conn:
        assert await repo.find_user_by_email(conn, "alice@EXAMPLE.com") == alice
        assert await repo.find_user_by_email(conn, "carol@example.com") is None
        assert await repo.get_user(conn, bob.id) == bob
        with pytest.raises(NotFound):
            await repo.get_user(conn, 999_999)
        assert [u.id for u in await repo.list_users(conn)] == [alice.id, bob.id]
        assert [u.id for u in await repo.list_users(conn, limit=1, offset=1)] == [bob.id]
        assert await repo.count_users(conn) == 2
    assert "argon2" not in repr(alice)


async def test_user_flags_and_password(database: Database, user: repo.User) -> None:
    async with database.write() as tx:
        admin = await repo.set_user_admin(tx, user.id, True)
        moved = await repo.set_user_password(tx, user.id, "new-hash")
        with pytest.raises(NotFound):
            await repo.set_user_admin(tx, 999_999, True)
    assert admin.is_admin and moved.password_hash == "new-hash" and moved.is_admin


async def login(database: Database, user: repo.User, token: str,
                ttl: float = 3600) -> repo.Session:
    async with database.write() as tx:
        session = await repo.create_session(tx, user.id)
        await repo.add_refresh_token(tx, session.id, token, time.time() + ttl)
    return session


async def rotate(database: Database, old: str, new: str) -> repo.Rotation:
    async with database.write() as tx:
        return await repo.rotate_refresh_token(tx, old, new, time.time() + 3600)


async def test_refresh_tokens_rotate(database: Database, user: repo.User) -> None:
    session = await login(database, user, "hash-1")
    first = await rotate(database, "hash-1", "hash-2")
    assert (first.outcome, first.session_id, first.user_id) == ("rotated", session.id, user.id)
    assert (await rotate(database, "hash-2", "hash-3")).outcome == "rotated"
    assert (await rotate(database, "unknown", "hash-x")).outcome == "invalid"
    async with database.read() as conn:
        assert (await repo.get_active_session(conn, session.id)).user_id == user.id


async def test_reusing_a_spent_token_revokes_the_session(database: Database,
                                                         user: repo.User) -> None:
    session = await login(database, user, "hash-1")
    await rotate(database, "hash-1", "hash-2")
    stolen = await rotate(database, "hash-1", "hash-evil")
    assert stolen.outcome == "reused" and stolen.session_id == session.id
    # The revocation committed although the refresh was refused; the live token is dead too.
    assert (await rotate(database, "hash-2", "hash-3")).outcome == "invalid"
    async with database.read() as conn:
        assert await repo.get_active_session(conn, session.id) is None


async def test_expired_token_and_logout(database: Database, user: repo.User) -> None:
    session = await login(database, user, "hash-old", ttl=-1)
    assert (await rotate(database, "hash-old", "hash-new")).outcome == "expired"
    async with database.write() as tx:
        assert await repo.revoke_session(tx, session.id)
        assert not await repo.revoke_session(tx, session.id)
    async with database.read() as conn:
        assert await repo.get_active_session(conn, session.id) is None


async def test_disabling_a_user_ends_their_sessions(database: Database,
                                                    make_user: MakeUser) -> None:
    user, other = await make_user(), await make_user()
    sessions = [await login(database, user, f"hash-{n}") for n in range(2)]
    kept = await login(database, other, "hash-other")
    async with database.write() as tx:
        assert (await repo.set_user_disabled(tx, user.id, True)).disabled
    assert (await rotate(database, "hash-0", "hash-9")).outcome == "invalid"
    async with database.write() as tx:
        await repo.set_user_disabled(tx, user.id, False)
    async with database.read() as conn:
        assert [await repo.get_active_session(conn, s.id) for s in sessions] == [None, None]
        assert await repo.get_active_session(conn, kept.id) == kept
    async with database.write() as tx:
        assert await repo.revoke_user_sessions(tx, other.id, reason="password changed") == 1
