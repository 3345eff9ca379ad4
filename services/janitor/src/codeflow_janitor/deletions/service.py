"""The deletion saga: issue one ``DeleteUserData``, collect every service's acknowledgement,
send the command again while one is missing, and complete the deletion.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import DeleteUserData, Envelope, new_envelope
from codeflow_contracts.deletions import DataHoldingService, DeletionReason
from codeflow_janitor.activity.repository import delete_activity
from codeflow_janitor.db import lock_user
from codeflow_janitor.deletions import repository
from codeflow_janitor.models import Deletion, DeletionStatus
from codeflow_messaging import add_to_outbox

logger = logging.getLogger("codeflow.janitor.deletions")

SOURCE = "codeflow/janitor"
RESEND_BATCH = 500


def delete_command(deletion: Deletion) -> Envelope[DeleteUserData]:
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


async def request_deletion(
    session: AsyncSession, user_id: str, *, now: datetime
) -> Deletion | None:
    """The user asked to be deleted: issue it now, unless a deletion of them already exists."""
    await lock_user(session, user_id)
    if await repository.has_any_deletion(session, user_id):
        logger.info("deletion requested by user %s, who already has one; nothing new", user_id)
        return None
    return await issue_deletion(session, user_id, "requested", now=now)


async def record_acknowledgement(
    session: AsyncSession,
    *,
    deletion_id: uuid.UUID,
    user_id: str,
    service: DataHoldingService,
    deleted_at: datetime,
    now: datetime,
) -> Deletion | None:
    """Note that ``service`` deleted its data; complete the deletion once all three have.

    Completing removes the user's activity row. A repeated acknowledgement keeps the first
    time; one for a deletion the janitor doesn't know is logged and dropped.
    """
    await lock_user(session, user_id)
    deletion = await repository.get_deletion(session, deletion_id, for_update=True)
    if deletion is None or deletion.user_id != user_id:
        logger.warning(
            "acknowledgement from %s for unknown deletion %s of user %s dropped",
            service,
            deletion_id,
            user_id,
        )
        return None
    if deletion.acked_at(service) is None:
        setattr(deletion, f"{service}_acked_at", deleted_at)
    if deletion.completed_at is None and not deletion.unacknowledged:
        deletion.completed_at = now
        await delete_activity(session, user_id)
        logger.info(
            "deletion %s of user %s complete after %d command(s)",
            deletion_id,
            user_id,
            deletion.attempts,
        )
    await session.flush()
    return deletion


async def resend_unacknowledged(
    session: AsyncSession, *, ack_timeout: timedelta, now: datetime, limit: int = RESEND_BATCH
) -> Sequence[Deletion]:
    """Send again every command some service has not acknowledged within ``ack_timeout``."""
    deletions = await repository.claim_unacknowledged(
        session, sent_before=now - ack_timeout, limit=limit
    )
    for deletion in deletions:
        await add_to_outbox(session, delete_command(deletion))
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
