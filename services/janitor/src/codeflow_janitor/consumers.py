"""The janitor's Kafka side: one consumer group for auth's user events (auth's answers to
its commands among them) and the services' acknowledgements, each run of messages of one
type mapped to a call of the service layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import (
    Envelope,
    UserActive,
    UserCreated,
    UserDataDeleted,
    UserDeleted,
    UserDeletionCancelled,
    UserDeletionRequested,
    UserRestated,
)
from codeflow_contracts.topics import USER_DELETION_ACKS, USER_EVENTS
from codeflow_janitor.activity.service import record_activity
from codeflow_janitor.deletions.repository import Acknowledgement
from codeflow_janitor.deletions.service import (
    cancel_deletion,
    record_acknowledgements,
    request_deletion,
)
from codeflow_messaging import Handles, ReliableConsumer, SessionFactory
from codeflow_service.erasure import SAGA_MAX_BATCH

GROUP_ID = "janitor"


async def on_user_created(
    session: AsyncSession, envelopes: Sequence[Envelope[UserCreated]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        # A new user who never comes back counts as inactive from the day they signed up.
        await record_activity(session, event.user_id, event.created_at)


async def on_user_active(session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
    for event in (envelope.data for envelope in envelopes):
        await record_activity(session, event.user_id, event.active_at)


async def on_user_restated(
    session: AsyncSession, envelopes: Sequence[Envelope[UserRestated]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        # A user auth holds but never saw active counts as seen now: rebuilding must not
        # make anyone look idle who might not be.
        await record_activity(session, event.user_id, event.last_active_at or event.restated_at)


async def on_user_deletion_requested(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeletionRequested]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        await request_deletion(
            session, event.user_id, now=datetime.now(UTC), deletion_id=event.deletion_id
        )


async def on_user_data_deleted(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDataDeleted]]
) -> None:
    # A run of acknowledgements (three per deletion, thousands after a sweep) is recorded
    # with one statement for the locks and one for the ledger.
    await record_acknowledgements(
        session,
        [
            Acknowledgement(ack.deletion_id, ack.user_id, ack.service, ack.deleted_at)
            for ack in (envelope.data for envelope in envelopes)
        ],
        now=datetime.now(UTC),
    )


async def on_user_deleted(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeleted]]
) -> None:
    """Auth erased the users: for the ledger, that is auth's acknowledgement."""
    await record_acknowledgements(
        session,
        [
            Acknowledgement(erased.deletion_id, erased.user_id, "auth", erased.deleted_at)
            for erased in (envelope.data for envelope in envelopes)
        ],
        now=datetime.now(UTC),
    )


async def on_user_deletion_cancelled(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeletionCancelled]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        await cancel_deletion(
            session,
            deletion_id=event.deletion_id,
            user_id=event.user_id,
            active_at=event.active_at,
            cancelled_at=event.cancelled_at,
        )


def consumers(sessions: SessionFactory, group_id: str = GROUP_ID) -> list[ReliableConsumer]:
    """The consumer of everything the janitor listens to."""
    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_EVENTS, USER_DELETION_ACKS],
            handlers=[
                Handles(UserCreated, on_user_created),
                Handles(UserActive, on_user_active),
                Handles(UserDeletionRequested, on_user_deletion_requested),
                Handles(UserRestated, on_user_restated),
                Handles(UserDeleted, on_user_deleted),
                Handles(UserDeletionCancelled, on_user_deletion_cancelled),
                Handles(UserDataDeleted, on_user_data_deleted),
            ],
            sessions=sessions,
            max_batch=SAGA_MAX_BATCH,
        )
    ]
