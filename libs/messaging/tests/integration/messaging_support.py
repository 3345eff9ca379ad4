"""What the messaging integration tests share: a test database, a handler with a visible
effect, and ways to read what reached Kafka.

The handler's effect is a row in ``effects`` with no uniqueness constraint, so a message
applied twice would show up as two rows; each row also names the transaction that wrote it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserActive, new_envelope, to_json_bytes
from codeflow_messaging import (
    ReliableConsumer,
    RetryPolicy,
    SessionFactory,
    add_messaging_tables,
    create_engine,
)
from codeflow_messaging.backoff import Backoff
from codeflow_testing.kafka import group_lag

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

_EFFECTS = """
CREATE TABLE IF NOT EXISTS effects (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id uuid NOT NULL,
    user_id text NOT NULL,
    active_at timestamptz NOT NULL,
    pid integer NOT NULL,
    txid bigint NOT NULL DEFAULT txid_current()
)
"""

FAST_RETRIES = RetryPolicy(max_attempts=3, backoff=Backoff(initial=0.05, maximum=0.2))


async def prepare_database(url: str) -> None:
    """Create the messaging tables and the ``effects`` table in a fresh database."""
    metadata = MetaData()
    add_messaging_tables(metadata)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(text(_EFFECTS))
    finally:
        await engine.dispose()


def activity(user_id: str, n: int) -> Envelope[UserActive]:
    """The ``n``-th activity of ``user_id``; ``active_at`` grows with ``n``, so it shows order."""
    return new_envelope(
        UserActive(user_id=user_id, active_at=EPOCH + timedelta(seconds=n)),
        source="codeflow/tests",
    )


def sequence_number(active_at: datetime) -> int:
    return int((active_at - EPOCH).total_seconds())


async def record_effect(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """The test handler: one ``effects`` row per application of a message."""
    await session.execute(
        text(
            "INSERT INTO effects (message_id, user_id, active_at, pid) "
            "VALUES (:message_id, :user_id, :active_at, :pid)"
        ),
        {
            "message_id": envelope.id,
            "user_id": envelope.data.user_id,
            "active_at": envelope.data.active_at,
            "pid": os.getpid(),
        },
    )


def effect_consumer(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    *,
    handler: Callable[[AsyncSession, Envelope[Any]], Awaitable[None]] = record_effect,
    retry: RetryPolicy = FAST_RETRIES,
    **options: Any,
) -> ReliableConsumer:
    return ReliableConsumer(
        group_id=group_id,
        topics=[topic],
        handlers={UserActive: handler},
        sessions=sessions,
        retry=retry,
        **options,
    )


async def effects(sessions: SessionFactory) -> list[tuple[str, str, int]]:
    """Every effect in the order it was applied: (message id, user id, sequence number)."""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT message_id, user_id, active_at FROM effects ORDER BY seq")
        )
        return [(str(m), u, sequence_number(a)) for m, u, a in rows]


async def transactions(sessions: SessionFactory) -> list[int]:
    """How many effects each transaction wrote, in the order the transactions began."""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT count(*) FROM effects GROUP BY txid ORDER BY min(seq)")
        )
        return [int(n) for (n,) in rows]


async def count(sessions: SessionFactory, sql: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(text(sql)) or 0)


async def write_to_outbox(
    sessions: SessionFactory, envelopes: list[Envelope[Any]], *, topic: str
) -> None:
    """Write each envelope through the outbox, one committed transaction each."""
    from codeflow_messaging import add_to_outbox, transaction

    for envelope in envelopes:
        async with transaction(sessions) as session:
            await add_to_outbox(session, envelope, topic=topic)


async def lag(bootstrap_servers: str, group_id: str, topic: str) -> int:
    """How many records of ``topic`` the group has not committed yet."""
    return await group_lag(bootstrap_servers, group_id, [topic])


async def publish_in_order(
    bootstrap_servers: str, topic: str, envelopes: list[Envelope[Any]]
) -> None:
    """Publish each envelope to partition 0, one after the other: one partition, one order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                topic, to_json_bytes(envelope), key=envelope.kafka_key, partition=0
            )
    finally:
        await producer.stop()
