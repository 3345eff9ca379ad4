"""What the repositories service consumes: auth's erasures."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserDeleted
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import Handles, ReliableConsumer, SessionFactory
from codeflow_repositories.repositories import service
from codeflow_service.erasure import SAGA_MAX_BATCH

GROUP_ID = "repositories"


async def on_user_deleted(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeleted]]
) -> None:
    # A run of erasures (a sweep's backlog) is deleted with one statement.
    events = [envelope.data for envelope in envelopes]
    await service.delete_users_data(session, [(e.user_id, e.deletion_id) for e in events])


def consumers(sessions: SessionFactory, group_id: str = GROUP_ID) -> Sequence[ReliableConsumer]:
    """Every consumer the service runs: auth's ``UserDeleted`` (its other events about users
    are skipped), in group ``repositories``."""
    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_EVENTS],
            handlers=[Handles(UserDeleted, on_user_deleted)],
            sessions=sessions,
            max_batch=SAGA_MAX_BATCH,
        )
    ]
