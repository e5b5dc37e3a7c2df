"""Refusing access tokens of sessions that have ended (signed out, revoked, user disabled).

Asking the database on every request would cost more than the rest of a cached page, so each
answer is remembered for ``ttl`` seconds in this process. This process forgets a session the
moment it ends one (sign-out, refresh-token reuse); an end decided elsewhere (another API
process, the CLI disabling a user) takes effect here within ``ttl`` seconds.
"""

from __future__ import annotations

import time

from linkarchive.http.tokens import AccessClaims
from linkarchive.storage.database import Database
from linkarchive.storage.repositories.auth import get_active_session

__all__ = ["SessionCheck"]

DEFAULT_TTL = 1.0
MAX_ENTRIES = 10_000


class SessionCheck:
    """``await check(claims)``: whether the token's session is active and is its user's."""

    def __init__(self, database: Database, *, ttl: float = DEFAULT_TTL,
                 max_entries: int = MAX_ENTRIES) -> None:
        self._database = database
        self._ttl = ttl
        self._max_entries = max_entries
        self._answers: dict[str, tuple[float, int | None]] = {}  # session → (until, user id)

    async def __call__(self, claims: AccessClaims) -> bool:
        now = time.monotonic()
        until, user_id = self._answers.get(claims.session_id, (0.0, None))
        if until <= now:
            async with self._database.read() as conn:
                session = await get_active_session(conn, claims.session_id)
            user_id = None if session is None else session.user_id
            if len(self._answers) >= self._max_entries:
                self._answers = {sid: answer for sid, answer in self._answers.items()
                                 if answer[0] > now}
            self._answers[claims.session_id] = (now + self._ttl, user_id)
        return user_id is not None and str(user_id) == claims.user_id

    def forget(self, session_id: str) -> None:
        """The session just ended here: ask the database next time."""
        self._answers.pop(session_id, None)
