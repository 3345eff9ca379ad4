"""What the profiles integration tests share: building events, publishing them, waiting for
the consumer to catch up, and reading the resulting state."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from codeflow_contracts import (
    Envelope,
    UserActive,
    UserCreated,
    UserDeleted,
    new_envelope,
    to_json_bytes,
)
from codeflow_contracts.topics import dead_letter_topic
from codeflow_infra.kafka import create_topics
from codeflow_messaging import RetryPolicy, SessionFactory, transaction
from codeflow_messaging.backoff import Backoff
from codeflow_profiles.profiles import service
from codeflow_profiles.profiles.domain import GitHubIdentity
from codeflow_testing.auth_events import login_changed
from codeflow_testing.kafka import group_lag, read_topic
from codeflow_testing.waiting import wait_until

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

FAST_RETRIES = RetryPolicy(max_attempts=2, backoff=Backoff(initial=0.05, maximum=0.1))
"""A failing handler dead-letters quickly, so a wedge shows up as a dead letter, not a hang."""


class ConsumerTopics(NamedTuple):
    """A test's own stand-in for ``auth.user-events``, everything profiles consumes."""

    events: str


async def new_topics(bootstrap_servers: str, *, partitions: int) -> ConsumerTopics:
    """Fresh topics; with one partition, records arrive in exactly the order published."""
    suffix = uuid.uuid4().hex[:10]
    topics = ConsumerTopics(f"test.user-events.{suffix}")
    await create_topics(bootstrap_servers, list(topics), partitions=partitions)
    return topics


def at(minutes: float) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


def new_user_id() -> str:
    return f"u{uuid.uuid4().hex[:20]}"


def created(user_id: str, github_id: int, login: str, minute: float) -> Envelope[Any]:
    return new_envelope(
        UserCreated(user_id=user_id, github_id=github_id, login=login, created_at=at(minute)),
        source="codeflow/auth",
    )


def updated(user_id: str, github_id: int, login: str, minute: float) -> Envelope[Any]:
    message = login_changed(user_id, github_id, login, at(minute))
    return new_envelope(message, source="codeflow/auth")


def identity_of(envelope: Envelope[Any]) -> GitHubIdentity:
    """The GitHub identity a ``UserCreated`` or ``UserUpdated`` carries, as the consumer
    passes it to :func:`codeflow_profiles.profiles.service.record_identity`."""
    event = envelope.data
    seen_at = getattr(event, "updated_at", None) or event.created_at
    return GitHubIdentity(event.user_id, event.github_id, event.login, seen_at)


def active(user_id: str, minute: float) -> Envelope[Any]:
    return new_envelope(UserActive(user_id=user_id, active_at=at(minute)), source="codeflow/auth")


def deleted(user_id: str, deletion_id: uuid.UUID | None = None) -> Envelope[Any]:
    """Auth's erasure of ``user_id``, which profiles carries out."""
    return new_envelope(
        UserDeleted(
            deletion_id=deletion_id or uuid.uuid4(),
            user_id=user_id,
            reason="inactive",
            deleted_at=datetime.now(UTC),
        ),
        source="codeflow/auth",
    )


async def record_profiles(
    sessions: SessionFactory, users: Iterable[str], *, first_github_id: int
) -> None:
    """Give each of ``users`` a profile at minute 0, straight through the service: GitHub ids
    counted up from ``first_github_id``, each user's login their user id."""
    async with transaction(sessions) as session:
        for n, user in enumerate(users):
            identity = GitHubIdentity(user, first_github_id + n, user, at(0))
            await service.record_identity(session, identity)


async def publish(bootstrap_servers: str, topic: str, envelopes: Iterable[Envelope[Any]]) -> None:
    """Publish each envelope, keyed by its user, in the order given."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(topic, to_json_bytes(envelope), key=envelope.kafka_key)
    finally:
        await producer.stop()


async def wait_caught_up(
    bootstrap_servers: str, group_id: str, topics: Iterable[str], *, timeout: float = 30
) -> None:
    """Wait until ``group_id`` has committed every record now on ``topics``."""
    topics = list(topics)

    async def caught_up() -> bool:
        return await group_lag(bootstrap_servers, group_id, topics) == 0

    await wait_until(caught_up, timeout=timeout, what=f"{group_id} to consume {topics}")


async def dead_letters(bootstrap_servers: str, topics: Iterable[str], group_id: str) -> int:
    """How many records ``group_id`` dead-lettered from ``topics``."""
    count = 0
    for topic in topics:
        count += len(await read_topic(bootstrap_servers, dead_letter_topic(topic, group_id)))
    return count


async def profiles_state(sessions: SessionFactory) -> dict[str, tuple[Any, ...]]:
    """Every profile's meaningful state by user id: what replaying the events must rebuild.

    The row id and ``updated_at`` are bookkeeping of the database that wrote them.
    """
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT user_id, github_id, username, last_active_at, created_at, "
                "identity_updated_at FROM user_profiles"
            )
        )
        return {row[0]: tuple(row[1:]) for row in rows}


async def usernames(sessions: SessionFactory) -> dict[str, str | None]:
    async with sessions() as session:
        rows = await session.execute(text("SELECT user_id, username FROM user_profiles"))
        return {row.user_id: row.username for row in rows}


async def scalar(sessions: SessionFactory, sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(text(sql), params)


async def last_active_at(sessions: SessionFactory, user_id: str) -> datetime | None:
    """When the user's profile says they were last active (``None`` before any activity)."""
    sql = "SELECT last_active_at FROM user_profiles WHERE user_id = :u"
    result: datetime | None = await scalar(sessions, sql, u=user_id)
    return result
