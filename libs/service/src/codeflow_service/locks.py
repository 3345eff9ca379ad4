"""Per-user advisory locks: how a service serialises everything it does about one person.

Work about one user reaches a service from several places at once (two topics, two
replicas, an HTTP request and a consumer). A transaction that checks something about a user
and then writes (has their data been deleted? then don't write) must not interleave with one
that changes the answer. Both take the user's lock first; PostgreSQL holds it until the
transaction ends.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Taken in hash order, so two transactions locking overlapping sets can't deadlock.
_LOCK_USERS = text(
    """
    SELECT count(pg_advisory_xact_lock(:lock_class, key))
    FROM (
        SELECT DISTINCT hashtext(user_id) AS key
        FROM unnest(CAST(:user_ids AS text[])) AS u(user_id)
        ORDER BY key
    ) AS keys
    """
)


async def lock_users(session: AsyncSession, user_ids: Collection[str], *, lock_class: int) -> None:
    """Lock each of ``user_ids`` until the transaction ends, in one statement.

    ``lock_class`` (an int4) keeps one service's locks apart from any other use of advisory
    locks in the same database. A lock is per user id hash: two users whose ids collide wait
    for each other, which costs a little time and nothing else.
    """
    if user_ids:
        await session.execute(_LOCK_USERS, {"lock_class": lock_class, "user_ids": list(user_ids)})


async def lock_user(session: AsyncSession, user_id: str, *, lock_class: int) -> None:
    """:func:`lock_users` for one user."""
    await lock_users(session, (user_id,), lock_class=lock_class)
