"""The profiles service's consumer: auth's user events, the erasure of a user included.

Everything profiles applies comes from one topic, ``auth.user-events``, keyed by user: a
user's identity changes, activity and erasure reach one consumer in the order auth committed
them. Each handler maps a run of contract messages of one type to calls of the service layer,
inside the consumer's transaction: a run of ``UserActive`` or ``UserDeleted`` (what a backlog
mostly is) is one call, applied with one statement per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import (
    Envelope,
    UserActive,
    UserCreated,
    UserDeleted,
    UserRestated,
    UserUpdated,
)
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import Handles, ReliableConsumer, RetryPolicy, SessionFactory
from codeflow_profiles.profiles import service
from codeflow_profiles.profiles.domain import GitHubIdentity

GROUP_ID = "profiles"
TOPICS = (USER_EVENTS,)


async def on_user_created(
    session: AsyncSession, envelopes: Sequence[Envelope[UserCreated]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        await service.record_identity(session, _identity(event, event.created_at))


async def on_user_updated(
    session: AsyncSession, envelopes: Sequence[Envelope[UserUpdated]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        await service.record_identity(session, _identity(event, event.updated_at))


async def on_user_restated(
    session: AsyncSession, envelopes: Sequence[Envelope[UserRestated]]
) -> None:
    for event in (envelope.data for envelope in envelopes):
        await service.restore_user(
            session, _identity(event, event.restated_at), event.last_active_at
        )


def _identity(event: UserCreated | UserUpdated | UserRestated, seen_at: datetime) -> GitHubIdentity:
    """The GitHub identity an event carries, as auth stored it at ``seen_at``."""
    return GitHubIdentity(event.user_id, event.github_id, event.login, seen_at)


async def on_user_active(session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
    # A run of activity (what a backlog mostly is) is applied in one statement.
    events = [envelope.data for envelope in envelopes]
    await service.record_activities(session, ((e.user_id, e.active_at) for e in events))


async def on_user_deleted(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeleted]]
) -> None:
    # A sweep's backlog of erasures: one statement per table for the whole run.
    events = [envelope.data for envelope in envelopes]
    await service.delete_users_data(session, [(e.user_id, e.deletion_id) for e in events])


def consumers(
    sessions: SessionFactory,
    group_id: str = GROUP_ID,
    *,
    topics: Iterable[str] = TOPICS,
    retry: RetryPolicy | None = None,
) -> list[ReliableConsumer]:
    """The ``profiles`` consumer group; tests point it at topics and a group of their own."""
    return [
        ReliableConsumer(
            group_id=group_id,
            topics=topics,
            handlers=[
                Handles(UserCreated, on_user_created),
                Handles(UserUpdated, on_user_updated),
                Handles(UserActive, on_user_active),
                Handles(UserDeleted, on_user_deleted),
                Handles(UserRestated, on_user_restated),
            ],
            sessions=sessions,
            retry=retry,
        )
    ]
