"""Per-user change sequence numbers: the sync cursor and the lock that orders a user's writes."""

from __future__ import annotations

from linkarchive.errors import NotFound
from linkarchive.storage.database import Connection

__all__ = ["next_change_seq"]

# Bump the user's counter. The row lock it takes is held until commit, so a second writer for
# the same user waits here and gets a higher number only after the first has committed: numbers
# are handed out in commit order, and a reader never sees n+1 without n.
BUMP_CHANGE_SEQ = "UPDATE users SET change_seq = change_seq + ? WHERE id = ? RETURNING change_seq"


async def next_change_seq(tx: Connection, user_id: int, count: int = 1) -> int:
    """Reserve ``count`` sequence numbers for this transaction; answer the highest."""
    seq = await tx.fetchval(BUMP_CHANGE_SEQ, (count, user_id))
    if seq is None:
        raise NotFound(f"no user {user_id}")
    return int(seq)
