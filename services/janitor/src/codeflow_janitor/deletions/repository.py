"""Reads and writes of the ``deletions`` ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts.deletions import DeletionReason
from codeflow_janitor.models import Deletion, DeletionStatus


async def has_any_deletion(session: AsyncSession, user_id: str) -> bool:
    """Whether a deletion of ``user_id`` was ever issued (in flight or complete)."""
    return bool(await session.scalar(select(exists().where(Deletion.user_id == user_id))))


async def insert_deletion(
    session: AsyncSession, *, user_id: str, reason: DeletionReason, now: datetime
) -> Deletion | None:
    """A new pending deletion of ``user_id``; ``None`` if one is already in flight."""
    statement = (
        insert(Deletion)
        .values(
            deletion_id=uuid.uuid4(),
            user_id=user_id,
            reason=reason,
            requested_at=now,
            last_sent_at=now,
            attempts=1,
        )
        # The partial unique index: at most one pending deletion per user.
        .on_conflict_do_nothing(
            index_elements=[Deletion.user_id], index_where=text("completed_at IS NULL")
        )
        .returning(Deletion)
    )
    return (await session.scalars(statement)).one_or_none()


async def get_deletion(
    session: AsyncSession, deletion_id: uuid.UUID, *, for_update: bool = False
) -> Deletion | None:
    statement = select(Deletion).where(Deletion.deletion_id == deletion_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def claim_unacknowledged(
    session: AsyncSession, *, sent_before: datetime, limit: int
) -> Sequence[Deletion]:
    """Pending deletions last sent before ``sent_before``, locked; other replicas skip them."""
    statement = (
        select(Deletion)
        .where(Deletion.completed_at.is_(None), Deletion.last_sent_at < sent_before)
        .order_by(Deletion.last_sent_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


def status_filter(status: DeletionStatus, *, overdue_before: datetime) -> ColumnElement[bool]:
    """The rows in ``status``; ``pending`` includes the overdue ones."""
    if status == "complete":
        return Deletion.completed_at.is_not(None)
    pending = Deletion.completed_at.is_(None)
    if status == "overdue":
        return and_(pending, Deletion.requested_at < overdue_before)
    return pending


async def count_by_status(
    session: AsyncSession, *, overdue_before: datetime
) -> dict[DeletionStatus, int]:
    statuses: tuple[DeletionStatus, ...] = ("pending", "complete", "overdue")
    row = (
        await session.execute(
            select(
                *(
                    func.count().filter(status_filter(s, overdue_before=overdue_before))
                    for s in statuses
                )
            ).select_from(Deletion)
        )
    ).one()
    return {status: int(count) for status, count in zip(statuses, row, strict=True)}


async def list_deletions(
    session: AsyncSession,
    *,
    status: DeletionStatus | None,
    overdue_before: datetime,
    limit: int,
    offset: int,
) -> Sequence[Deletion]:
    """One page, newest first."""
    statement = select(Deletion).order_by(Deletion.requested_at.desc(), Deletion.deletion_id.desc())
    if status is not None:
        statement = statement.where(status_filter(status, overdue_before=overdue_before))
    return (await session.scalars(statement.limit(limit).offset(offset))).all()
