"""Reads and writes of the ``deletions`` ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts.deletions import DataHoldingService, DeletionReason
from codeflow_janitor.models import PENDING, Deletion, DeletionStatus


@dataclass(frozen=True)
class NewDeletion:
    """What a command needs of a deletion just recorded."""

    deletion_id: uuid.UUID
    user_id: str
    reason: DeletionReason
    requested_at: datetime
    inactive_since: datetime | None
    command_id: uuid.UUID | None


async def has_live_deletion(session: AsyncSession, user_id: str) -> bool:
    """Whether a deletion of ``user_id`` is in flight or complete (not cancelled)."""
    live = exists().where(Deletion.user_id == user_id, Deletion.cancelled_at.is_(None))
    return bool(await session.scalar(select(live)))


async def is_erased(session: AsyncSession, user_id: str) -> bool:
    """Whether ``user_id`` is gone: auth erased them, or their deletion completed."""
    erased = exists().where(
        Deletion.user_id == user_id,
        (Deletion.auth_acked_at.is_not(None)) | (Deletion.completed_at.is_not(None)),
    )
    return bool(await session.scalar(select(erased)))


async def insert_deletion(
    session: AsyncSession,
    *,
    user_id: str,
    reason: DeletionReason,
    now: datetime,
    deletion_id: uuid.UUID | None = None,
) -> Deletion | None:
    """A new pending deletion of ``user_id``, under ``deletion_id`` (a new one if not given);
    ``None`` if one is already in flight."""
    statement = (
        insert(Deletion)
        .values(
            deletion_id=deletion_id or uuid.uuid4(),
            user_id=user_id,
            reason=reason,
            requested_at=now,
            command_id=uuid.uuid4(),
            last_sent_at=now,
            attempts=1,
        )
        # The partial unique index: at most one pending deletion per user.
        .on_conflict_do_nothing(index_elements=[Deletion.user_id], index_where=text(PENDING))
        .returning(Deletion)
    )
    return (await session.scalars(statement)).one_or_none()


async def insert_deletions(
    session: AsyncSession,
    users: Select[str],
    *,
    reason: DeletionReason,
    now: datetime,
    inactive_since: datetime | None = None,
) -> list[NewDeletion]:
    """A new pending deletion of each user ``users`` selects, in one statement.

    A user with a deletion already in flight (one issued meanwhile by a request) is left out.
    """
    chosen = users.subquery()
    columns = [
        "deletion_id",
        "user_id",
        "reason",
        "requested_at",
        "inactive_since",
        "command_id",
        "last_sent_at",
        "attempts",
    ]
    statement = (
        insert(Deletion)
        .from_select(
            columns,
            select(
                func.gen_random_uuid(),
                chosen.c.user_id,
                literal(reason),
                literal(now, Deletion.requested_at.type),
                literal(inactive_since, Deletion.inactive_since.type),
                func.gen_random_uuid(),
                literal(now, Deletion.last_sent_at.type),
                literal(1),
            ),
        )
        .on_conflict_do_nothing(index_elements=[Deletion.user_id], index_where=text(PENDING))
        .returning(
            Deletion.deletion_id,
            Deletion.user_id,
            Deletion.reason,
            Deletion.requested_at,
            Deletion.inactive_since,
            Deletion.command_id,
        )
    )
    return [NewDeletion(*row) for row in await session.execute(statement)]


async def cancel_deletion(
    session: AsyncSession,
    *,
    deletion_id: uuid.UUID,
    user_id: str,
    cancelled_at: datetime,
    cancellation: str,
) -> Deletion | None:
    """End a pending deletion as cancelled; ``None`` if there is no such pending deletion
    (unknown, another user's, or ended already)."""
    statement = (
        update(Deletion)
        .where(
            Deletion.deletion_id == deletion_id,
            Deletion.user_id == user_id,
            text(PENDING),
        )
        .values(cancelled_at=cancelled_at, cancellation=cancellation)
        .returning(Deletion)
    )
    return (await session.scalars(statement)).one_or_none()


@dataclass(frozen=True)
class Acknowledgement:
    """One service's word that it deleted its data for a deletion."""

    deletion_id: uuid.UUID
    user_id: str
    service: DataHoldingService
    deleted_at: datetime


@dataclass(frozen=True)
class RecordedAcknowledgements:
    """A deletion some of a round's acknowledgements were for, after recording them."""

    deletion_id: uuid.UUID
    user_id: str
    attempts: int
    completed_now: bool


# Each deletion's first acknowledgement per service counts (earlier rows' ones, then the
# first in the given order); the deletion completes in the statement that records its last
# missing one, which also removes the user's activity row. ``before`` is read in the same
# snapshot as the update, so ``completed_now`` holds for exactly one statement per deletion
# while acknowledgements of a user are serialised (the caller holds the user's lock).
_RECORD_ACKNOWLEDGEMENTS = text(
    """
    WITH acks AS (
        SELECT * FROM unnest(
            CAST(:deletion_ids AS uuid[]), CAST(:user_ids AS text[]),
            CAST(:services AS text[]), CAST(:deleted_ats AS timestamptz[])
        ) WITH ORDINALITY AS a(deletion_id, user_id, service, deleted_at, position)
    ),
    firsts AS (
        SELECT deletion_id, user_id,
            (array_agg(deleted_at ORDER BY position) FILTER (WHERE service = 'auth'))[1]
                AS auth,
            (array_agg(deleted_at ORDER BY position) FILTER (WHERE service = 'profiles'))[1]
                AS profiles,
            (array_agg(deleted_at ORDER BY position) FILTER (WHERE service = 'repositories'))[1]
                AS repositories
        FROM acks GROUP BY deletion_id, user_id
    ),
    before AS (
        SELECT d.deletion_id, d.completed_at
        FROM deletions AS d JOIN firsts AS f USING (deletion_id, user_id)
    ),
    recorded AS (
        UPDATE deletions AS d SET
            auth_acked_at = coalesce(d.auth_acked_at, f.auth),
            profiles_acked_at = coalesce(d.profiles_acked_at, f.profiles),
            repositories_acked_at = coalesce(d.repositories_acked_at, f.repositories),
            completed_at = CASE
                WHEN d.completed_at IS NULL AND d.cancelled_at IS NULL
                    AND coalesce(d.auth_acked_at, f.auth) IS NOT NULL
                    AND coalesce(d.profiles_acked_at, f.profiles) IS NOT NULL
                    AND coalesce(d.repositories_acked_at, f.repositories) IS NOT NULL
                THEN CAST(:now AS timestamptz)
                ELSE d.completed_at
            END
        FROM firsts AS f JOIN before AS b USING (deletion_id)
        WHERE d.deletion_id = f.deletion_id AND d.user_id = f.user_id
        RETURNING d.deletion_id, d.user_id, d.attempts,
            b.completed_at IS NULL AND d.completed_at IS NOT NULL AS completed_now
    ),
    forgotten AS (
        DELETE FROM user_activity
        WHERE user_id IN (SELECT user_id FROM recorded WHERE completed_now)
    )
    SELECT deletion_id, user_id, attempts, completed_now FROM recorded
    """
)


async def record_acknowledgements(
    session: AsyncSession, acks: Sequence[Acknowledgement], *, now: datetime
) -> list[RecordedAcknowledgements]:
    """Record ``acks`` in one statement; one row per known deletion they were for.

    Acknowledgements of a deletion the ledger doesn't hold (or of another user's) have no
    row. The caller must hold the lock of every user concerned.
    """
    if not acks:
        return []
    result = await session.execute(
        _RECORD_ACKNOWLEDGEMENTS,
        {
            "deletion_ids": [a.deletion_id for a in acks],
            "user_ids": [a.user_id for a in acks],
            "services": [a.service for a in acks],
            "deleted_ats": [a.deleted_at for a in acks],
            "now": now,
        },
    )
    return [RecordedAcknowledgements(*row) for row in result]


async def get_deletion(
    session: AsyncSession, deletion_id: uuid.UUID, *, for_update: bool = False
) -> Deletion | None:
    statement = select(Deletion).where(Deletion.deletion_id == deletion_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def get_deletion_followed_as(
    session: AsyncSession, deletion_id: uuid.UUID
) -> Deletion | None:
    """The deletion a person follows by ``deletion_id``: its own id, or the id their request
    was given when it found this deletion in flight (``requested_as``)."""
    statement = select(Deletion).where(
        (Deletion.deletion_id == deletion_id) | (Deletion.requested_as == deletion_id)
    )
    return (await session.scalars(statement)).first()


async def follow_pending_deletion_as(
    session: AsyncSession, user_id: str, deletion_id: uuid.UUID
) -> bool:
    """Let the pending deletion of ``user_id`` be followed as ``deletion_id`` too; ``False``
    if it already is (or by another id), or none is pending but one under that very id."""
    statement = (
        update(Deletion)
        .where(
            Deletion.user_id == user_id,
            text(PENDING),
            Deletion.requested_as.is_(None),
            Deletion.deletion_id != deletion_id,
        )
        .values(requested_as=deletion_id)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def claim_unanswered(
    session: AsyncSession,
    *,
    now: datetime,
    ack_timeout: timedelta,
    max_sends: int,
    limit: int,
) -> Sequence[Deletion]:
    """Pending deletions auth hasn't answered whose command is due again, locked; other
    replicas skip them.

    The n-th send is due ``ack_timeout * 2**(n-2)`` after the one before it (one timeout,
    then twice that, ...), and there are at most ``max_sends`` in all.
    """
    waited = func.make_interval(
        0, 0, 0, 0, 0, 0, ack_timeout.total_seconds() * func.power(2, Deletion.attempts - 1)
    )
    statement = (
        select(Deletion)
        .where(
            text(PENDING),
            Deletion.auth_acked_at.is_(None),
            Deletion.attempts < max_sends,
            Deletion.last_sent_at + waited <= now,
        )
        .order_by(Deletion.last_sent_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


def status_filter(status: DeletionStatus, *, overdue_before: datetime) -> ColumnElement[bool]:
    """The rows in ``status``; ``pending`` includes the overdue ones."""
    if status == "complete":
        return Deletion.completed_at.is_not(None)
    if status == "cancelled":
        return Deletion.cancelled_at.is_not(None)
    pending = and_(Deletion.completed_at.is_(None), Deletion.cancelled_at.is_(None))
    if status == "overdue":
        return and_(pending, Deletion.requested_at < overdue_before)
    return pending


async def count_by_status(
    session: AsyncSession, *, overdue_before: datetime
) -> dict[DeletionStatus, int]:
    statuses: tuple[DeletionStatus, ...] = ("pending", "complete", "cancelled", "overdue")
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
