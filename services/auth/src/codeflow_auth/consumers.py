"""What auth consumes: the janitor's deletion commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.revocation import GrantRevoker
from codeflow_contracts import (
    DeleteUserData,
    Envelope,
)
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_messaging import ReliableConsumer, SessionFactory

GROUP_ID = "auth"


def consumers(
    sessions: SessionFactory,
    group_id: str = GROUP_ID,
    *,
    evidence: ActivityEvidence,
    revoker: GrantRevoker | None = None,
) -> list[ReliableConsumer]:
    """The janitor's commands: auth decides each erasure and carries out its own share."""

    async def carry_out(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
        await carry_out_deletions(session, envelopes, evidence, revoker)

    async def carry_out_one(session: AsyncSession, envelope: Envelope[Any]) -> None:
        await carry_out_deletions(session, [envelope], evidence, revoker)

    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_DELETION_COMMANDS],
            handlers={DeleteUserData: carry_out_one},
            # A run of commands (a sweep's backlog) is carried out with one statement per table.
            batch_handlers={DeleteUserData: carry_out},
            sessions=sessions,
        )
    ]
