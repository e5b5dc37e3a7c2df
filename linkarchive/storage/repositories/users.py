"""Accounts: create, look up, list, count, disable, change password or admin flag.

Passwords arrive hashed; this module never sees one in clear. An address is unique whatever
its case: ``email_key`` holds the lowercased form.
"""

from __future__ import annotations

import time

from linkarchive.errors import Conflict, NotFound
from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.auth import revoke_user_sessions
from linkarchive.storage.repositories.rows import User

__all__ = [
    "count_users",
    "create_user",
    "find_user_by_email",
    "get_user",
    "list_users",
    "set_user_admin",
    "set_user_disabled",
    "set_user_password",
]

_USER_COLUMNS = "id, email, password_hash, is_admin, disabled, created_at, updated_at"

# -- Named SQL ---------------------------------------------------------------------------------
INSERT_USER = (
    "INSERT INTO users (email, email_key, password_hash, is_admin, created_at, updated_at)"
    f" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email_key) DO NOTHING RETURNING {_USER_COLUMNS}")
USER_BY_ID = f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?"
USER_BY_EMAIL = f"SELECT {_USER_COLUMNS} FROM users WHERE email_key = ?"
USERS_PAGE = f"SELECT {_USER_COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?"
COUNT_USERS = "SELECT count(*) FROM users"
# {column} is one of disabled, password_hash, is_admin.
SET_USER_COLUMN = ("UPDATE users SET {column} = ?, updated_at = ? WHERE id = ?"
                   f" RETURNING {_USER_COLUMNS}")


def _email_key(email: str) -> str:
    return email.strip().lower()


async def create_user(tx: Connection, email: str, password_hash: str, *,
                      is_admin: bool = False) -> User:
    """A new account; ``Conflict`` when the address (in any case) is taken."""
    now = time.time()
    row = await tx.fetchone(INSERT_USER, (email.strip(), _email_key(email), password_hash,
                                          is_admin, now, now))
    if row is None:
        raise Conflict("that email address is already registered")
    return User.from_row(row)


async def get_user(conn: Connection, user_id: int) -> User:
    row = await conn.fetchone(USER_BY_ID, (user_id,))
    if row is None:
        raise NotFound(f"no user {user_id}")
    return User.from_row(row)


async def find_user_by_email(conn: Connection, email: str) -> User | None:
    row = await conn.fetchone(USER_BY_EMAIL, (_email_key(email),))
    return None if row is None else User.from_row(row)


async def list_users(conn: Connection, *, limit: int = 100, offset: int = 0) -> list[User]:
    """Accounts in the order they were created."""
    return [User.from_row(row) for row in await conn.fetchall(USERS_PAGE, (limit, offset))]


async def count_users(conn: Connection) -> int:
    return await conn.fetchval(COUNT_USERS)


async def _set(tx: Connection, user_id: int, column: str, value: object) -> User:
    row = await tx.fetchone(SET_USER_COLUMN.format(column=column), (value, time.time(), user_id))
    if row is None:
        raise NotFound(f"no user {user_id}")
    return User.from_row(row)


async def set_user_disabled(tx: Connection, user_id: int, disabled: bool) -> User:
    """Disable (ending every session) or re-enable an account."""
    user = await _set(tx, user_id, "disabled", disabled)
    if disabled:
        await revoke_user_sessions(tx, user_id, reason="account disabled")
    return user


async def set_user_password(tx: Connection, user_id: int, password_hash: str) -> User:
    """Store a new password hash; sessions stay (revoke them too when the old one leaked)."""
    return await _set(tx, user_id, "password_hash", password_hash)


async def set_user_admin(tx: Connection, user_id: int, is_admin: bool) -> User:
    return await _set(tx, user_id, "is_admin", is_admin)
