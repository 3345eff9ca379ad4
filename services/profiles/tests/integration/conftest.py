"""Fixtures for the profiles service's integration tests, on the real PostgreSQL and Kafka.

- ``profiles_database_url``: a new database at the latest migration, dropped afterwards;
- ``profiles_sessions``: sessions on it;
- ``consumer_topics``: an events topic of the test's own;
- ``start_consumer``: the real profiles consumer on those topics, in a group of its own;
- ``tokens``: JWTs as auth signs them, with their JWKS served on loopback;
- ``profiles_url``: the whole service running on loopback against the above.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from codeflow_messaging import SessionFactory
from codeflow_testing.pytest_plugin import StartConsumers
from codeflow_testing.services import served_service, service_database
from codeflow_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).parent))

from profiles_support import ALEMBIC_INI, FAST_RETRIES, ConsumerTopics, new_topics

from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.consumers import TOPICS, consumers
from codeflow_profiles.main import create_app

pytestmark = pytest.mark.integration


profiles_database_url, profiles_sessions = service_database("profiles", ALEMBIC_INI)


@pytest.fixture
async def consumer_topics(kafka_bootstrap_servers: str) -> ConsumerTopics:
    """Topics of the test's own, with three partitions as the real ones have."""
    return await new_topics(kafka_bootstrap_servers, partitions=3)


StartConsumer = Callable[..., Awaitable[str]]


@pytest.fixture
def start_consumer(
    start_consumers: StartConsumers, consumer_topics: ConsumerTopics
) -> StartConsumer:
    """Start the profiles consumer into ``sessions``, on the test's topics unless given other
    ones, in a consumer group of its own; returns the group id."""

    async def start(sessions: SessionFactory, topics: ConsumerTopics | None = None) -> str:
        group_id = f"profiles-test-{uuid.uuid4().hex[:8]}"
        profiles = consumers(
            sessions, group_id, topics=topics or consumer_topics, retry=FAST_RETRIES
        )
        await start_consumers(*profiles, client_id=group_id)
        return group_id

    return start


@pytest.fixture
async def tokens() -> AsyncIterator[TestTokens]:
    async with TestTokens(service="profiles").served() as served:
        yield served


@pytest.fixture
async def profiles_url(
    profiles_database_url: str, kafka_bootstrap_servers: str, tokens: TestTokens
) -> AsyncIterator[str]:
    """The whole service (HTTP, consumer on the real topics, outbox relay) on loopback."""
    async with served_service(
        create_app,
        ProfilesSettings,
        database_url=profiles_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        tokens=tokens,
        group_prefix="profiles-served",
        consumes=TOPICS,
    ) as served:
        yield served.url
