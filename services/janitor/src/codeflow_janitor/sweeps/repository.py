"""The queries a sweep runs on the projection and the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_janitor.models import Deletion, UserActivity

# A cancelled deletion doesn't count: the person came back, and may go quiet again.
_HAS_DELETION = exists().where(
    Deletion.user_id == UserActivity.user_id, Deletion.cancelled_at.is_(None)
)


async def count_inactive(session: AsyncSession, *, cutoff: datetime) -> tuple[int, int]:
    """Users last active before ``cutoff``: (without a deletion yet, with one already).

    A cancelled deletion is not one."""
    row = (
        await session.execute(
            select(
                func.count().filter(~_HAS_DELETION),
                func.count().filter(_HAS_DELETION),
            ).where(UserActivity.last_active_at < cutoff)
        )
    ).one()
    return int(row[0]), int(row[1])


def inactive_users(*, cutoff: datetime, limit: int) -> Select[str]:
    """Up to ``limit`` users last active before ``cutoff`` with no deletion, longest idle
    first: the query, for the statement that issues their deletions."""
    return (
        select(UserActivity.user_id)
        .where(UserActivity.last_active_at < cutoff, ~_HAS_DELETION)
        .order_by(UserActivity.last_active_at, UserActivity.user_id)
        .limit(limit)
    )
