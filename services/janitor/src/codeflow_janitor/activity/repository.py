"""Reads and writes of the ``user_activity`` projection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_janitor.models import UserActivity


async def upsert_activity(session: AsyncSession, user_id: str, seen_at: datetime) -> None:
    """Widen the user's window to include ``seen_at``: it never moves a time back."""
    statement = insert(UserActivity).values(
        user_id=user_id, first_seen_at=seen_at, last_active_at=seen_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[UserActivity.user_id],
            set_={
                "first_seen_at": func.least(
                    UserActivity.first_seen_at, statement.excluded.first_seen_at
                ),
                "last_active_at": func.greatest(
                    UserActivity.last_active_at, statement.excluded.last_active_at
                ),
            },
        )
    )


async def count_known_users(session: AsyncSession) -> int:
    """How many users the projection holds (deleted users are removed from it)."""
    return int(await session.scalar(select(func.count()).select_from(UserActivity)) or 0)
