"""The deletion saga: issue one ``DeleteUserData``, collect every service's acknowledgement,
send the command again while one is missing, and complete the deletion.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import DeleteUserData, Envelope, new_envelope
from codeflow_contracts.deletions import DeletionReason
from codeflow_janitor.db import lock_user, lock_users
from codeflow_janitor.deletions import repository
from codeflow_janitor.deletions.repository import (
    Acknowledgement,
    NewDeletion,
    RecordedAcknowledgements,
)
from codeflow_janitor.models import Deletion, DeletionStatus
from codeflow_messaging import add_all_to_outbox, add_to_outbox

logger = logging.getLogger("codeflow.janitor.deletions")

SOURCE = "codeflow/janitor"
RESEND_BATCH = 500


def delete_command(deletion: Deletion | NewDeletion) -> Envelope[DeleteUserData]:
    """The command for ``deletion``, in a new envelope (a new id each time it is sent).

    The deletion id stays the same, so acknowledgements of any copy count; the envelope id
    is new so that a service whose inbox already holds an earlier copy handles it again.
    """
    command = DeleteUserData(
        user_id=deletion.user_id,
        deletion_id=deletion.deletion_id,
        reason=deletion.reason,
        requested_at=deletion.requested_at,
    )
    return new_envelope(command, source=SOURCE)


async def issue_deletion(
    session: AsyncSession, user_id: str, reason: DeletionReason, *, now: datetime
) -> Deletion | None:
    """Record a deletion of ``user_id`` and queue its command; ``None`` if one is in flight."""
    deletion = await repository.insert_deletion(session, user_id=user_id, reason=reason, now=now)
    if deletion is None:
        return None
    await add_to_outbox(session, delete_command(deletion))
    logger.info("deletion %s of user %s issued (%s)", deletion.deletion_id, user_id, reason)
    return deletion


async def issue_deletions(
    session: AsyncSession, users: Select[str], reason: DeletionReason, *, now: datetime
) -> list[NewDeletion]:
    """:func:`issue_deletion` for every user ``users`` selects, in two statements in all:
    one records the deletions, one queues their commands.
    """
    deletions = await repository.insert_deletions(session, users, reason=reason, now=now)
    await add_all_to_outbox(session, [delete_command(d) for d in deletions])
    for deletion in deletions:
        logger.debug(
            "deletion %s of user %s issued (%s)", deletion.deletion_id, deletion.user_id, reason
        )
    return deletions


async def request_deletion(
    session: AsyncSession, user_id: str, *, now: datetime
) -> Deletion | None:
    """The user asked to be deleted: issue it now, unless a deletion of them already exists."""
    await lock_user(session, user_id)
    if await repository.has_any_deletion(session, user_id):
        logger.info("deletion requested by user %s, who already has one; nothing new", user_id)
        return None
    return await issue_deletion(session, user_id, "requested", now=now)


async def record_acknowledgements(
    session: AsyncSession, acks: Sequence[Acknowledgement], *, now: datetime
) -> list[RecordedAcknowledgements]:
    """Note that each ack's service deleted its data; complete every deletion all three
    services have now acknowledged, removing its user's activity row.

    Any number of acknowledgements, of any deletions, in two statements: the users' locks,
    then one update of the ledger. A service's first acknowledgement of a deletion counts,
    repeats change nothing, and a deletion completes exactly once. One for a deletion the
    janitor doesn't know is logged and dropped.
    """
    if not acks:
        return []
    await lock_users(session, {a.user_id for a in acks})
    recorded = await repository.record_acknowledgements(session, acks, now=now)
    known = {(r.deletion_id, r.user_id) for r in recorded}
    for ack in acks:
        if (ack.deletion_id, ack.user_id) not in known:
            logger.warning(
                "acknowledgement from %s for unknown deletion %s of user %s dropped",
                ack.service,
                ack.deletion_id,
                ack.user_id,
            )
    for deletion in recorded:
        if deletion.completed_now:
            logger.info(
                "deletion %s of user %s complete after %d command(s)",
                deletion.deletion_id,
                deletion.user_id,
                deletion.attempts,
            )
    return recorded


async def resend_unacknowledged(
    session: AsyncSession, *, ack_timeout: timedelta, now: datetime, limit: int = RESEND_BATCH
) -> Sequence[Deletion]:
    """Send again every command some service has not acknowledged within ``ack_timeout``."""
    deletions = await repository.claim_unacknowledged(
        session, sent_before=now - ack_timeout, limit=limit
    )
    await add_all_to_outbox(session, [delete_command(d) for d in deletions])
    for deletion in deletions:
        deletion.last_sent_at = now
        deletion.attempts += 1
        logger.warning(
            "deletion %s of user %s: no acknowledgement from %s within %s; "
            "sent the command again (attempt %d)",
            deletion.deletion_id,
            deletion.user_id,
            ", ".join(deletion.unacknowledged),
            ack_timeout,
            deletion.attempts,
        )
    await session.flush()
    return deletions


async def find_deletion(session: AsyncSession, deletion_id: uuid.UUID) -> Deletion | None:
    return await repository.get_deletion(session, deletion_id)


@dataclass(frozen=True)
class DeletionSummary:
    """How many deletions are in each status, and one page of them."""

    counts: dict[DeletionStatus, int]
    items: Sequence[Deletion]


async def summarise_deletions(
    session: AsyncSession,
    *,
    status: DeletionStatus | None,
    overdue_before: datetime,
    limit: int,
    offset: int,
) -> DeletionSummary:
    counts = await repository.count_by_status(session, overdue_before=overdue_before)
    items = await repository.list_deletions(
        session, status=status, overdue_before=overdue_before, limit=limit, offset=offset
    )
    return DeletionSummary(counts, items)
