"""The janitor's Kafka side: one consumer group for auth's user events (auth's answers to
its commands among them) and the services' acknowledgements, each message (or a run of
acknowledgements) mapped to a call of the service layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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
from codeflow_messaging import ReliableConsumer, SessionFactory

GROUP_ID = "janitor"


async def on_user_created(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserCreated = envelope.data
    # A new user who never comes back counts as inactive from the day they signed up.
    await record_activity(session, event.user_id, event.created_at)


async def on_user_active(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserActive = envelope.data
    await record_activity(session, event.user_id, event.active_at)


async def on_user_restated(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserRestated = envelope.data
    # A user auth holds but never saw active counts as seen now: rebuilding must not make
    # anyone look idle who might not be.
    await record_activity(session, event.user_id, event.last_active_at or event.restated_at)


async def on_user_deletion_requested(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserDeletionRequested = envelope.data
    await request_deletion(session, event.user_id, now=datetime.now(UTC))


async def on_user_data_deleted(session: AsyncSession, envelope: Envelope[Any]) -> None:
    await on_users_data_deleted(session, [envelope])


async def on_users_data_deleted(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    acks: list[UserDataDeleted] = [envelope.data for envelope in envelopes]
    await record_acknowledgements(
        session, [acknowledgement(ack) for ack in acks], now=datetime.now(UTC)
    )


def acknowledgement(ack: UserDataDeleted) -> Acknowledgement:
    return Acknowledgement(
        deletion_id=ack.deletion_id,
        user_id=ack.user_id,
        service=ack.service,
        deleted_at=ack.deleted_at,
    )


async def on_user_deleted(session: AsyncSession, envelope: Envelope[Any]) -> None:
    await on_users_deleted(session, [envelope])


async def on_users_deleted(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """Auth erased the users: for the ledger, that is auth's acknowledgement."""
    erased: list[UserDeleted] = [envelope.data for envelope in envelopes]
    await record_acknowledgements(
        session,
        [Acknowledgement(e.deletion_id, e.user_id, "auth", e.deleted_at) for e in erased],
        now=datetime.now(UTC),
    )


async def on_user_deletion_cancelled(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserDeletionCancelled = envelope.data
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
            handlers={
                UserCreated: on_user_created,
                UserActive: on_user_active,
                UserDeletionRequested: on_user_deletion_requested,
                UserRestated: on_user_restated,
                UserDeleted: on_user_deleted,
                UserDeletionCancelled: on_user_deletion_cancelled,
                UserDataDeleted: on_user_data_deleted,
            },
            # A run of acknowledgements (three per deletion, thousands after a sweep) is recorded
            # with one statement for the locks and one for the ledger.
            batch_handlers={UserDataDeleted: on_users_data_deleted, UserDeleted: on_users_deleted},
            sessions=sessions,
        )
    ]
