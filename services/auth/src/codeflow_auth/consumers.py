"""What auth consumes: the janitor's deletion commands."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.revocation import GrantRevoker
from codeflow_contracts import DeleteUserData, Envelope
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_messaging import Handles, ReliableConsumer, SessionFactory
from codeflow_service.erasure import SAGA_MAX_BATCH

GROUP_ID = "auth"


def consumers(
    sessions: SessionFactory,
    group_id: str = GROUP_ID,
    *,
    evidence: ActivityEvidence,
    revoker: GrantRevoker | None = None,
) -> list[ReliableConsumer]:
    """The janitor's commands: auth decides each erasure and carries out its own share."""

    async def on_delete_user_data(
        session: AsyncSession, envelopes: Sequence[Envelope[DeleteUserData]]
    ) -> None:
        # A run of commands (a sweep's backlog) is carried out with one statement per table.
        commands = [envelope.data for envelope in envelopes]
        await carry_out_deletions(session, commands, evidence, revoker)

    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_DELETION_COMMANDS],
            handlers=[Handles(DeleteUserData, on_delete_user_data)],
            sessions=sessions,
            max_batch=SAGA_MAX_BATCH,
        )
    ]
