"""Waiting until a transaction is blocked on another's lock, to interleave two on purpose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text

from codeflow_messaging import SessionFactory


def someone_waits_for_a_lock(sessions: SessionFactory) -> Callable[[], Awaitable[bool]]:
    """A condition for ``wait_until``: some session of this database waits for a lock."""

    async def waiting() -> bool:
        async with sessions() as s:
            count = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(count)

    return waiting
