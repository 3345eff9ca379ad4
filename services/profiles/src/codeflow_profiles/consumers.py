"""The profiles service's consumer: auth's user events, the erasure of a user included.

Everything profiles applies comes from one topic, ``auth.user-events``, keyed by user: a
user's identity changes, activity and erasure reach one consumer in the order auth committed
them. Each handler maps a contract message to one call of the service layer, inside the
consumer's transaction. ``UserActive`` also has a batch handler: a run of activity (what a
backlog mostly is) is applied in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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
from codeflow_messaging import ReliableConsumer, RetryPolicy, SessionFactory
from codeflow_profiles.profiles import service
from codeflow_profiles.profiles.domain import GitHubIdentity

GROUP_ID = "profiles"
TOPICS = (USER_EVENTS,)


async def on_user_created(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserCreated = envelope.data
    identity = GitHubIdentity(event.user_id, event.github_id, event.login, event.created_at)
    await service.record_identity(session, identity)


async def on_user_updated(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserUpdated = envelope.data
    identity = GitHubIdentity(event.user_id, event.github_id, event.login, event.updated_at)
    await service.record_identity(session, identity)


async def on_user_restated(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserRestated = envelope.data
    await service.restore_user(
        session,
        GitHubIdentity(event.user_id, event.github_id, event.login, event.restated_at),
        event.last_active_at,
    )


async def on_user_active(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserActive = envelope.data
    await service.record_activity(session, event.user_id, event.active_at)


async def on_user_active_batch(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    events: list[UserActive] = [envelope.data for envelope in envelopes]
    await service.record_activities(session, ((e.user_id, e.active_at) for e in events))


async def on_user_deleted(session: AsyncSession, envelope: Envelope[Any]) -> None:
    event: UserDeleted = envelope.data
    await service.delete_user_data(session, event.user_id, event.deletion_id)


async def on_user_deleted_batch(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    events: list[UserDeleted] = [envelope.data for envelope in envelopes]
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
            handlers={
                UserCreated: on_user_created,
                UserUpdated: on_user_updated,
                UserActive: on_user_active,
                UserDeleted: on_user_deleted,
                UserRestated: on_user_restated,
            },
            batch_handlers={
                UserActive: on_user_active_batch,
                # A sweep's backlog of erasures: one statement per table for the whole run.
                UserDeleted: on_user_deleted_batch,
            },
            sessions=sessions,
            retry=retry,
        )
    ]
