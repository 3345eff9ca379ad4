"""A running janitor on its own migrated database, the real Kafka, and admin/user tokens.

``start_janitor(**overrides)`` serves the janitor over real HTTP on loopback. Its consumer
group is new for each start and begins at the current end of the topics, so messages that
other tests left on the shared topics never reach it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from codeflow_contracts.topics import ALL_TOPICS, USER_DELETION_ACKS, USER_EVENTS
from codeflow_infra.kafka import create_topics
from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.main import create_app
from codeflow_messaging import SessionFactory
from codeflow_testing.services import served_service, service_database
from codeflow_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).parent))

from janitor_support import Janitor, StartJanitor

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


janitor_database_url, janitor_sessions = service_database("janitor", ALEMBIC_INI)


@pytest.fixture(scope="session")
async def tokens() -> AsyncIterator[TestTokens]:
    """JWTs as auth signs them, verified through a JWKS served on loopback."""
    async with TestTokens(service="janitor").served() as served:
        yield served


@pytest.fixture(scope="session")
async def producer(kafka_bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    """A plain producer, standing in for auth, profiles and repositories."""
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
async def start_janitor(
    janitor_database_url: str,
    janitor_sessions: SessionFactory,
    kafka_bootstrap_servers: str,
    tokens: TestTokens,
    producer: AIOKafkaProducer,
) -> AsyncIterator[StartJanitor]:
    """Start the janitor (settings overridable) for the rest of the test."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Janitor:
            options = {
                "inactive_after": "PT3S",
                "sweep_interval": 0,
                "max_deletion_share": 1.0,
                "ack_timeout": "PT1H",
                "resend_check_interval": 0.2,
            }
            served = await stack.enter_async_context(
                served_service(
                    create_app,
                    JanitorSettings,
                    database_url=janitor_database_url,
                    kafka_bootstrap_servers=kafka_bootstrap_servers,
                    tokens=tokens,
                    group_prefix="janitor-test",
                    consumes=(USER_EVENTS, USER_DELETION_ACKS),
                    **(options | overrides),
                )
            )
            return Janitor(served.url, served.settings, janitor_sessions, tokens, producer)

        yield start
