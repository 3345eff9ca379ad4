"""Carrying out ``DeleteUserData``: auth decides whether an erasure goes ahead, and starts it.

Auth sees every sign-in and session check, so it is the one to judge, at the moment the
erasure would start, whether the person is still inactive (ADR 0009). Under the users' row
locks, for each command in order:

- an erasure the person asked for goes ahead;
- an erasure for inactivity goes ahead unless auth saw the person active after the sweep's
  cutoff, allowing for activity auth records only once per ``activity_interval``; a user
  with no GitHub account left can't come back, and goes ahead too;
- otherwise it is cancelled: nothing is deleted anywhere.

The answer, ``UserDeleted`` or ``UserDeletionCancelled``, goes to the user's own partition of
``auth.user-events`` through the outbox, in the transaction that deleted (or didn't), after
every earlier event about the user. Profiles, repositories and the janitor read it there, so
none of them can apply one of the user's events after the erasure. A run of commands is
carried out with one statement per table. Once the transaction commits, the GitHub grants of
the erased users' accounts are revoked, best effort (:mod:`codeflow_auth.revocation`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.deletion import repository
from codeflow_auth.events import emit
from codeflow_auth.revocation import GrantRevoker
from codeflow_contracts import DeleteUserData, Message, UserDeleted, UserDeletionCancelled

logger = logging.getLogger("codeflow.auth.deletion")

LEGACY_INACTIVE_AFTER = timedelta(days=90)
"""The cutoff of an inactivity command that doesn't carry one (sent before the field
existed): the janitor's default threshold before its decision."""


@dataclass(frozen=True)
class ActivityEvidence:
    """How auth judges whether a person was active after a moment."""

    activity_interval: timedelta
    """Auth writes ``users.last_active_at`` at most once per this: a person may have been
    active up to this long after it without a trace."""

    def active_after(self, seen_at: datetime | None, cutoff: datetime) -> bool:
        """Whether activity last recorded at ``seen_at`` may have happened after ``cutoff``."""
        return seen_at is not None and seen_at + self.activity_interval > cutoff


async def carry_out_deletions(
    session: AsyncSession,
    commands: Sequence[DeleteUserData],
    evidence: ActivityEvidence,
    revoker: GrantRevoker | None = None,
) -> None:
    """Decide and carry out each command of a run, in order; ``revoker``: revoke the erased
    accounts' GitHub grants once the transaction commits."""
    now = datetime.now(UTC)
    users = await repository.lock_users(session, {c.user_id for c in commands})
    seen = await repository.last_seen_of_those_who_can_return(session, users)
    erased: set[str] = set()
    answers: list[Message] = []
    for command in commands:
        user_id = command.user_id
        if user_id not in erased and user_id in seen:
            cutoff = _cutoff(command)
            if cutoff is not None and evidence.active_after(seen[user_id], cutoff):
                active_at = seen[user_id]
                assert active_at is not None  # active_after() said so
                answers.append(
                    UserDeletionCancelled(
                        user_id=user_id,
                        deletion_id=command.deletion_id,
                        active_at=active_at,
                        cancelled_at=now,
                    )
                )
                logger.info(
                    "deletion %s of user %s cancelled: active at %s, after the cutoff %s",
                    command.deletion_id,
                    user_id,
                    active_at.isoformat(),
                    cutoff.isoformat(),
                )
                continue
        erased.add(user_id)
        answers.append(
            UserDeleted(
                user_id=user_id,
                deletion_id=command.deletion_id,
                reason=command.reason,
                deleted_at=now,
            )
        )
        logger.info(
            "deletion %s (%s): %s user %s",
            command.deletion_id,
            command.reason,
            "erased" if user_id in users else "already no",
            user_id,
        )
    await _erase(session, {u: users[u] for u in erased if u in users}, revoker)
    await emit.all(session, answers)


def _cutoff(command: DeleteUserData) -> datetime | None:
    """The moment after which activity cancels the erasure; ``None``: nothing cancels it."""
    if command.reason == "requested":
        return None
    return command.inactive_since or command.requested_at - LEGACY_INACTIVE_AFTER


async def _erase(
    session: AsyncSession, users: dict[str, str | None], revoker: GrantRevoker | None
) -> None:
    """Delete the users and their emails' tokens; their grants are revoked after commit."""
    if not users:
        return
    if revoker is not None:
        await revoker.revoke_after_commit(session, users)
    if tokens := await repository.delete_users(session, users):
        logger.info("deleted %d verification token(s) of %d user(s)", tokens, len(users))
