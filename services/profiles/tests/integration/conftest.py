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
from faststream.kafka import KafkaBroker

from codeflow_contracts.topics import ALL_TOPICS
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory, create_broker
from codeflow_messaging.testing import sessions_on
from codeflow_testing.asgi import serve
from codeflow_testing.databases import migrated_database
from codeflow_testing.kafka import new_group_at_end
from codeflow_testing.services import settings_for_tests
from codeflow_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).parent))

from profiles_support import ALEMBIC_INI, FAST_RETRIES, ConsumerTopics, new_topics

from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.consumers import TOPICS, consumers
from codeflow_profiles.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def profiles_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with migrated_database(postgres_url, ALEMBIC_INI, prefix="profiles_test") as url:
        yield url


@pytest.fixture
async def profiles_sessions(profiles_database_url: str) -> AsyncIterator[SessionFactory]:
    async with sessions_on(profiles_database_url) as sessions:
        yield sessions


@pytest.fixture
async def consumer_topics(kafka_bootstrap_servers: str) -> ConsumerTopics:
    """Topics of the test's own, with three partitions as the real ones have."""
    return await new_topics(kafka_bootstrap_servers, partitions=3)


StartConsumer = Callable[..., Awaitable[str]]


@pytest.fixture
async def start_consumer(
    kafka_bootstrap_servers: str, consumer_topics: ConsumerTopics
) -> AsyncIterator[StartConsumer]:
    """Start the profiles consumer into ``sessions``, on the test's topics unless given other
    ones, in a consumer group of its own; returns the group id."""
    brokers: list[KafkaBroker] = []

    async def start(sessions: SessionFactory, topics: ConsumerTopics | None = None) -> str:
        group_id = f"profiles-test-{uuid.uuid4().hex[:8]}"
        broker = create_broker(kafka_bootstrap_servers, client_id=group_id)
        for consumer in consumers(
            sessions, group_id, topics=topics or consumer_topics, retry=FAST_RETRIES
        ):
            consumer.subscribe(broker)
        await broker.start()
        brokers.append(broker)
        return group_id

    yield start
    for broker in brokers:
        await broker.stop()


@pytest.fixture
async def tokens() -> AsyncIterator[TestTokens]:
    async with TestTokens(service="profiles").served() as served:
        yield served


@pytest.fixture
async def profiles_url(
    profiles_database_url: str, kafka_bootstrap_servers: str, tokens: TestTokens
) -> AsyncIterator[str]:
    """The whole service (HTTP, consumer on the real topics, outbox relay) on loopback."""
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    # A group of its own, starting at the end: earlier tests' messages are not this test's.
    group_id = await new_group_at_end(kafka_bootstrap_servers, "profiles-served", TOPICS)
    settings = ProfilesSettings(
        **settings_for_tests(
            database_url=profiles_database_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            tokens=tokens,
            consumer_group=group_id,
        )
    )
    async with serve(create_app(settings)) as url:
        yield url
