"""Login sessions and their rotating refresh tokens, stored as hashes.

Each refresh spends the presented token and issues its successor. Presenting a spent token
again means it was copied: the whole session is revoked. ``rotate_refresh_token`` reports that
as an outcome instead of raising, so the caller's transaction commits the revocation.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

from linkarchive.storage.database import Connection
from linkarchive.storage.repositories.rows import Session

__all__ = [
    "Rotation",
    "add_refresh_token",
    "create_session",
    "get_active_session",
    "revoke_session",
    "revoke_user_sessions",
    "rotate_refresh_token",
]

_SESSION_COLUMNS = "id, user_id, created_at, revoked_at, revoke_reason"

# -- Named SQL ---------------------------------------------------------------------------------
INSERT_SESSION = ("INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)"
                  f" RETURNING {_SESSION_COLUMNS}")
INSERT_REFRESH_TOKEN = ("INSERT INTO refresh_tokens (token_hash, session_id, created_at,"
                        " expires_at) VALUES (?, ?, ?, ?)")
ACTIVE_SESSION = (
    "SELECT s.id, s.user_id, s.created_at, s.revoked_at, s.revoke_reason FROM sessions s"
    " JOIN users u ON u.id = s.user_id"
    " WHERE s.id = ? AND s.revoked_at IS NULL AND NOT u.disabled")
TOKEN_STATE = (
    "SELECT rt.session_id, rt.expires_at, rt.used_at, s.user_id, s.revoked_at, u.disabled"
    " FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id"
    " JOIN users u ON u.id = s.user_id WHERE rt.token_hash = ?")
# Guarded by used_at IS NULL: of two concurrent refreshes with one token, one wins.
SPEND_TOKEN = ("UPDATE refresh_tokens SET used_at = ?, replaced_by = ?"
               " WHERE token_hash = ? AND used_at IS NULL")
REVOKE_SESSION = ("UPDATE sessions SET revoked_at = ?, revoke_reason = ?"
                  " WHERE id = ? AND revoked_at IS NULL")
REVOKE_USER_SESSIONS = ("UPDATE sessions SET revoked_at = ?, revoke_reason = ?"
                        " WHERE user_id = ? AND revoked_at IS NULL")


@dataclass(frozen=True, kw_only=True)
class Rotation:
    """What presenting a refresh token led to.

    ``rotated``: the new token is stored. ``reused``: the token was already spent, the session
    is now revoked. ``expired``/``invalid``: refused, nothing changed.
    """

    outcome: Literal["rotated", "reused", "expired", "invalid"]
    session_id: str | None = None
    user_id: int | None = None


async def create_session(tx: Connection, user_id: int) -> Session:
    row = await tx.fetchone(INSERT_SESSION, (secrets.token_urlsafe(18), user_id, time.time()))
    return Session.from_row(row)


async def add_refresh_token(tx: Connection, session_id: str, token_hash: str,
                            expires_at: float) -> None:
    """Store a refresh token (its hash only) for a session."""
    await tx.execute(INSERT_REFRESH_TOKEN, (token_hash, session_id, time.time(), expires_at))


async def rotate_refresh_token(tx: Connection, token_hash: str, new_token_hash: str,
                               new_expires_at: float) -> Rotation:
    """Spend ``token_hash`` and store ``new_token_hash`` as its successor, if it may be spent."""
    now = time.time()
    row = await tx.fetchone(TOKEN_STATE, (token_hash,))
    if row is None or row["revoked_at"] is not None or row["disabled"]:
        return Rotation(outcome="invalid")
    session_id, user_id = row["session_id"], row["user_id"]
    if row["used_at"] is None and row["expires_at"] <= now:
        return Rotation(outcome="expired", session_id=session_id, user_id=user_id)
    if row["used_at"] is not None or not await tx.execute(
            SPEND_TOKEN, (now, new_token_hash, token_hash)):
        await revoke_session(tx, session_id, reason="refresh token reused")
        return Rotation(outcome="reused", session_id=session_id, user_id=user_id)
    await add_refresh_token(tx, session_id, new_token_hash, new_expires_at)
    return Rotation(outcome="rotated", session_id=session_id, user_id=user_id)


async def revoke_session(tx: Connection, session_id: str, *, reason: str = "logout") -> bool:
    """End a session and with it all its refresh tokens; answer whether it was active."""
    return bool(await tx.execute(REVOKE_SESSION, (time.time(), reason, session_id)))


async def revoke_user_sessions(tx: Connection, user_id: int, *, reason: str) -> int:
    """End every active session of a user; answer how many."""
    return await tx.execute(REVOKE_USER_SESSIONS, (time.time(), reason, user_id))


async def get_active_session(conn: Connection, session_id: str) -> Session | None:
    """The session if it is neither revoked nor its user disabled."""
    row = await conn.fetchone(ACTIVE_SESSION, (session_id,))
    return None if row is None else Session.from_row(row)
