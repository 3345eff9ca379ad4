from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from codeflow_infra.kafka import create_topics
from codeflow_messaging import OutboxRelay, SessionFactory, create_producer
from codeflow_messaging.kafka import PRODUCER_OPTIONS
from codeflow_messaging.testing import sessions_on
from codeflow_testing.databases import scratch_database
from codeflow_testing.pytest_plugin import StartConsumers

sys.path.insert(0, str(Path(__file__).parent))

from messaging_support import ConsumerGroup, prepare_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, prefix="messaging_test") as url:
        await prepare_database(url)
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    async with sessions_on(database_url) as sessions:
        yield sessions


@pytest.fixture
async def topic(kafka_bootstrap_servers: str) -> str:
    name = f"test.{uuid.uuid4().hex[:12]}"
    await create_topics(kafka_bootstrap_servers, [name], partitions=3)
    return name


@pytest.fixture
def group_id() -> str:
    return f"test-group-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def group(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers: StartConsumers,
) -> ConsumerGroup:
    """The test's consumer group on its topic (see :class:`ConsumerGroup`)."""
    return ConsumerGroup(sessions, topic, group_id, kafka_bootstrap_servers, start_consumers)


StartRelay = Callable[..., OutboxRelay]


@pytest.fixture
async def start_relay(
    kafka_bootstrap_servers: str, sessions: SessionFactory
) -> AsyncIterator[StartRelay]:
    """Run an outbox relay in the background; cancelled after the test."""
    tasks: list[asyncio.Task[None]] = []

    def start(
        *,
        metadata_timeout_ms: int | None = None,
        relay_class: type[OutboxRelay] = OutboxRelay,
        **options: object,
    ) -> OutboxRelay:
        """``metadata_timeout_ms``: how long the producer waits for a topic's metadata (its
        request timeout) before a send fails; shorter than production's, for tests that wait
        for such a failure. ``relay_class``: a subclass of the relay, taking ``options``."""

        def producer() -> AIOKafkaProducer:
            if metadata_timeout_ms is None:
                return create_producer(kafka_bootstrap_servers, client_id="messaging-tests")
            return AIOKafkaProducer(
                bootstrap_servers=kafka_bootstrap_servers,
                client_id="messaging-tests",
                **(PRODUCER_OPTIONS | {"request_timeout_ms": metadata_timeout_ms}),
            )

        relay = relay_class(sessions, producer, **options)  # type: ignore[arg-type]
        tasks.append(asyncio.create_task(relay.run()))
        return relay

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
