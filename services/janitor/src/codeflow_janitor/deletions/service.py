"""The deletion saga: issue one ``DeleteUserData`` to auth, which decides (``UserDeleted``,
its acknowledgement, or ``UserDeletionCancelled``); collect the other services'
acknowledgements, send the command again (as itself, a bounded number of times) while auth
hasn't answered, and complete or cancel the deletion.
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
from codeflow_janitor.activity.repository import upsert_activity
from codeflow_janitor.db import lock_user, lock_users
from codeflow_janitor.deletions import repository
from codeflow_janitor.deletions.repository import (
    Acknowledgement,
    NewDeletion,
    RecordedAcknowledgements,
)
from codeflow_janitor.models import Deletion, DeletionStatus
from codeflow_messaging import add_all_to_outbox, add_to_outbox, requeue_in_outbox

logger = logging.getLogger("codeflow.janitor.deletions")

SOURCE = "codeflow/janitor"
RESEND_BATCH = 500


def delete_command(deletion: Deletion | NewDeletion) -> Envelope[DeleteUserData]:
    """The command for ``deletion``, the same message each time it is sent.

    Its envelope id is the deletion's ``command_id``: a re-send is a copy that every inbox
    which handled the command drops, so an outage can't multiply the work.
    """
    command = DeleteUserData(
        user_id=deletion.user_id,
        deletion_id=deletion.deletion_id,
        reason=deletion.reason,
        requested_at=deletion.requested_at,
        inactive_since=deletion.inactive_since,
    )
    return new_envelope(command, source=SOURCE, id=deletion.command_id, time=deletion.requested_at)


async def issue_deletion(
    session: AsyncSession,
    user_id: str,
    reason: DeletionReason,
    *,
    now: datetime,
    deletion_id: uuid.UUID | None = None,
) -> Deletion | None:
    """Record a deletion of ``user_id`` (under ``deletion_id``, if given) and queue its
    command; ``None`` if one is in flight."""
    deletion = await repository.insert_deletion(
        session, user_id=user_id, reason=reason, now=now, deletion_id=deletion_id
    )
    if deletion is None:
        return None
    await add_to_outbox(session, delete_command(deletion))
    logger.info("deletion %s of user %s issued (%s)", deletion.deletion_id, user_id, reason)
    return deletion


async def issue_deletions(
    session: AsyncSession,
    users: Select[str],
    reason: DeletionReason,
    *,
    now: datetime,
    inactive_since: datetime | None = None,
) -> list[NewDeletion]:
    """:func:`issue_deletion` for every user ``users`` selects, in two statements in all:
    one records the deletions, one queues their commands. ``inactive_since`` is the sweep's
    cutoff, which auth judges the person's activity against.
    """
    deletions = await repository.insert_deletions(
        session, users, reason=reason, now=now, inactive_since=inactive_since
    )
    await add_all_to_outbox(session, [delete_command(d) for d in deletions])
    for deletion in deletions:
        logger.debug(
            "deletion %s of user %s issued (%s)", deletion.deletion_id, deletion.user_id, reason
        )
    return deletions


async def request_deletion(
    session: AsyncSession, user_id: str, *, now: datetime, deletion_id: uuid.UUID | None = None
) -> Deletion | None:
    """The user asked to be deleted: issue it now, under ``deletion_id`` (the id auth gave
    them to follow it by; a new one if the request names none), unless a deletion of them
    is in flight or complete. (One for inactivity in flight goes ahead: auth never cancels
    the erasure of someone who asked to leave, whose GitHub account it has already
    unlinked. The person follows that one by the id of their request.)"""
    await lock_user(session, user_id)
    if await repository.has_live_deletion(session, user_id):
        if deletion_id is not None and await repository.follow_pending_deletion_as(
            session, user_id, deletion_id
        ):
            logger.info(
                "deletion requested by user %s, who has one in flight; it carries out the "
                "request %s",
                user_id,
                deletion_id,
            )
            return None
        logger.info("deletion requested by user %s, who already has one; nothing new", user_id)
        return None
    return await issue_deletion(session, user_id, "requested", now=now, deletion_id=deletion_id)


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


async def cancel_deletion(
    session: AsyncSession,
    *,
    deletion_id: uuid.UUID,
    user_id: str,
    active_at: datetime,
    cancelled_at: datetime,
) -> Deletion | None:
    """Auth saw the person active after the cutoff and deleted nothing: end the deletion as
    cancelled, with the reason, and count that activity. ``None`` if no such deletion is
    pending (unknown, or ended already: a repeat changes nothing)."""
    await lock_user(session, user_id)
    deletion = await repository.cancel_deletion(
        session,
        deletion_id=deletion_id,
        user_id=user_id,
        cancelled_at=cancelled_at,
        cancellation=f"active at {active_at.isoformat()}, after the cutoff",
    )
    if deletion is None:
        logger.warning(
            "cancellation of deletion %s of user %s dropped: no such deletion is pending",
            deletion_id,
            user_id,
        )
        return None
    await upsert_activity(session, user_id, active_at)
    logger.info(
        "deletion %s of user %s cancelled by auth: %s (cutoff %s)",
        deletion_id,
        user_id,
        deletion.cancellation,
        deletion.inactive_since.isoformat() if deletion.inactive_since else "none",
    )
    return deletion


async def resend_unanswered(
    session: AsyncSession,
    *,
    ack_timeout: timedelta,
    now: datetime,
    max_sends: int,
    limit: int = RESEND_BATCH,
) -> Sequence[Deletion]:
    """Send again, as the same message, each command auth hasn't answered in time.

    Only auth consumes the commands: once it has answered, the others' share follows from
    its event on ``auth.user-events``, and a copy of the command could add nothing. The
    waits double (one ``ack_timeout``, then two, four, ...) and a command is sent at most
    ``max_sends`` times; after the last, the deletion stays ``overdue`` for an operator.
    """
    deletions = await repository.claim_unanswered(
        session, now=now, ack_timeout=ack_timeout, max_sends=max_sends, limit=limit
    )
    for deletion in deletions:
        if deletion.command_id is None:  # recorded before commands kept their identity
            deletion.command_id = uuid.uuid4()
    await requeue_in_outbox(session, [delete_command(d) for d in deletions])
    for deletion in deletions:
        deletion.last_sent_at = now
        deletion.attempts += 1
        last = deletion.attempts >= max_sends
        (logger.error if last else logger.warning)(
            "deletion %s of user %s: auth has not answered within %s; sent the command again "
            "(send %d of at most %d)%s",
            deletion.deletion_id,
            deletion.user_id,
            ack_timeout * 2 ** (deletion.attempts - 2),
            deletion.attempts,
            max_sends,
            "; that was the last: check auth's consumer of janitor.user-deletion-commands "
            "and its dead-letter topic"
            if last
            else "",
        )
    await session.flush()
    return deletions


async def find_deletion(session: AsyncSession, deletion_id: uuid.UUID) -> Deletion | None:
    return await repository.get_deletion(session, deletion_id)


async def find_deletion_followed_as(
    session: AsyncSession, deletion_id: uuid.UUID
) -> Deletion | None:
    """The deletion whose progress ``deletion_id`` shows (``DELETE /auth/me`` gave it)."""
    return await repository.get_deletion_followed_as(session, deletion_id)


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
