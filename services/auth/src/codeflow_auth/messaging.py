"""Auth's Kafka side: the consumer of deletion commands, and the outbox relay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.revocation import GrantRevoker
from codeflow_contracts import (
    DeleteUserData,
    Envelope,
    Message,
    UserActive,
    UserCreated,
    UserDeleted,
    UserDeletionCancelled,
    UserDeletionRequested,
    UserRestated,
    UserUpdated,
)
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_messaging import ReliableConsumer, SessionFactory

GROUP_ID = "auth"

PUBLISHES: tuple[type[Message], ...] = (
    UserCreated,
    UserUpdated,
    UserActive,
    UserDeletionRequested,
    UserDeleted,
    UserDeletionCancelled,
    UserRestated,
)
"""What auth's outbox carries."""


def deletion_consumer(
    sessions: SessionFactory, evidence: ActivityEvidence, revoker: GrantRevoker | None = None
) -> ReliableConsumer:
    """The janitor's commands: auth decides each erasure and carries out its own share."""

    async def carry_out(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
        await carry_out_deletions(session, envelopes, evidence, revoker)

    async def carry_out_one(session: AsyncSession, envelope: Envelope[Any]) -> None:
        await carry_out_deletions(session, [envelope], evidence, revoker)

    return ReliableConsumer(
        group_id=GROUP_ID,
        topics=[USER_DELETION_COMMANDS],
        handlers={DeleteUserData: carry_out_one},
        # A run of commands (a sweep's backlog) is carried out with one statement per table.
        batch_handlers={DeleteUserData: carry_out},
        sessions=sessions,
    )
