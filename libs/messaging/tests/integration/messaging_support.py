"""What the messaging integration tests share: a test database, a handler with a visible
effect (and ones that fail or hold on to a batch), and ways to read what reached Kafka.

The handler's effect is a row in ``effects`` per message, with no uniqueness constraint, so
a message applied twice would show up as two rows; each row also names the transaction that
wrote it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserActive, new_envelope, to_json_bytes
from codeflow_contracts.topics import dead_letter_topic
from codeflow_infra.kafka import create_topics
from codeflow_messaging import (
    Handler,
    Handles,
    ReliableConsumer,
    RetryPolicy,
    SessionFactory,
    add_messaging_tables,
    add_to_outbox,
    create_engine,
    transaction,
)
from codeflow_messaging.backoff import Backoff
from codeflow_testing.kafka import group_lag, read_topic
from codeflow_testing.waiting import wait_until

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


async def record_effects(session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
    """The test handler: one ``effects`` row per message, each time it is applied."""
    await session.execute(
        text(
            "INSERT INTO effects (message_id, user_id, active_at, pid) "
            "VALUES (:message_id, :user_id, :active_at, :pid)"
        ),
        [
            {
                "message_id": envelope.id,
                "user_id": envelope.data.user_id,
                "active_at": envelope.data.active_at,
                "pid": os.getpid(),
            }
            for envelope in envelopes
        ],
    )


def effect_consumer(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    *,
    handler: Handler[UserActive] = record_effects,
    retry: RetryPolicy = FAST_RETRIES,
    **options: Any,
) -> ReliableConsumer:
    return ReliableConsumer(
        group_id=group_id,
        topics=[topic],
        handlers=[Handles(UserActive, handler)],
        sessions=sessions,
        retry=retry,
        **options,
    )


class PoisonError(RuntimeError):
    pass


class Poisoned:
    """A handler that records each message's effect, but fails every batch holding the
    ``poison`` message until it is ``cured``, raising from ``depth`` frames down (a long trace).

    ``tries`` counts how often each message was handed over; ``tries_alone`` only the times
    it was handed over on its own (a batch of one, or the one-by-one handling of a batch).
    """

    def __init__(self, poison: Envelope[UserActive], *, depth: int = 0) -> None:
        self.poison = poison
        self.depth = depth
        self.cured = False
        self.tries: Counter[UUID] = Counter()
        self.tries_alone: Counter[UUID] = Counter()

    async def apply(self, session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
        self.tries.update(envelope.id for envelope in envelopes)
        if len(envelopes) == 1:
            self.tries_alone[envelopes[0].id] += 1
        if not self.cured and any(envelope.id == self.poison.id for envelope in envelopes):
            _fail_from(self.depth)
        await record_effects(session, envelopes)


def _fail_from(depth: int) -> None:
    if depth == 0:
        raise PoisonError("cannot apply this one")
    _fail_from(depth - 1)


class FirstBatchHeld:
    """A handler that holds on to the first batch it is given until ``release`` is set, then
    records its effects like every other batch's; ``held`` is what it held."""

    def __init__(self) -> None:
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.held: list[UserActive] = []

    async def apply(self, session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
        if not self.holding.is_set():
            self.held.extend(envelope.data for envelope in envelopes)
            self.holding.set()
            await self.release.wait()
        await record_effects(session, envelopes)

    async def is_holding(self) -> bool:
        return self.holding.is_set()


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    """A record's headers (a dead letter's say where it came from and why), decoded."""
    return {name: value.decode() for name, value in record.headers}


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


def users_out_of_order(applied: list[tuple[str, str, int]]) -> list[str]:
    """The users some of whose effects (as :func:`effects` lists them) were applied out of
    the order of their sequence numbers."""
    by_user: dict[str, list[int]] = defaultdict(list)
    for _, user, n in applied:
        by_user[user].append(n)
    return [user for user, numbers in by_user.items() if numbers != sorted(numbers)]


async def count(sessions: SessionFactory, sql: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(text(sql)) or 0)


async def pending(sessions: SessionFactory) -> int:
    """How many outbox rows are not published yet."""
    return await count(sessions, "SELECT count(*) FROM outbox WHERE published_at IS NULL")


async def wait_drained(
    sessions: SessionFactory, what: str = "the outbox to drain", *, timeout: float = 60
) -> None:
    """Wait until every outbox row is published; a timeout fails naming ``what``."""

    async def drained() -> bool:
        return await pending(sessions) == 0

    await wait_until(drained, timeout=timeout, what=what)


async def write_to_outbox(
    sessions: SessionFactory, envelopes: list[Envelope[Any]], *, topic: str
) -> None:
    """Write each envelope through the outbox, one committed transaction each."""
    for envelope in envelopes:
        async with transaction(sessions) as session:
            await add_to_outbox(session, envelope, topic=topic)


async def write_oversized(
    sessions: SessionFactory, envelope: Envelope[Any], *, topic: str, padding: int
) -> int:
    """Write ``envelope`` to the outbox with ``padding`` bytes more in its body, so that Kafka
    refuses it as too large; return its outbox row id."""
    body = json.loads(to_json_bytes(envelope))
    body["padding"] = "x" * padding
    async with transaction(sessions) as session:
        row: int = (
            await session.execute(
                text(
                    "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
                    "VALUES (:message_id, :topic, :key, :type, CAST(:payload AS jsonb)) "
                    "RETURNING id"
                ),
                {
                    "message_id": envelope.id,
                    "topic": topic,
                    "key": envelope.subject,
                    "type": envelope.type,
                    "payload": json.dumps(body),
                },
            )
        ).scalar_one()
    return row


async def lag(bootstrap_servers: str, group_id: str, topic: str) -> int:
    """How many records of ``topic`` the group has not committed yet."""
    return await group_lag(bootstrap_servers, group_id, [topic])


async def publish_in_order(
    bootstrap_servers: str, topic: str, envelopes: list[Envelope[Any]]
) -> None:
    """Publish each envelope to partition 0, one after the other: one partition, one order."""
    await publish_records(
        bootstrap_servers, topic, [(e.kafka_key, to_json_bytes(e)) for e in envelopes]
    )


async def publish_records(
    bootstrap_servers: str, topic: str, records: list[tuple[bytes, bytes]]
) -> None:
    """Publish each ``(key, value)`` to partition 0, one after the other, as it is."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key, partition=0)
    finally:
        await producer.stop()


async def publish_backlog(
    bootstrap_servers: str, topic: str, envelopes: list[Envelope[Any]], *, chunk: int = 500
) -> None:
    """Publish the envelopes to partition 0 in order, ``chunk`` at a time without waiting for
    each: a backlog of thousands in a second or two."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for start in range(0, len(envelopes), chunk):
            sent = [
                await producer.send(topic, to_json_bytes(e), key=e.kafka_key, partition=0)
                for e in envelopes[start : start + chunk]
            ]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class ConsumerGroup:
    """The test's own consumer group on the test's own topic, applying ``effects`` in the
    test's database: what the consumer tests set up."""

    sessions: SessionFactory
    topic: str
    group_id: str
    bootstrap_servers: str
    start_consumers: Callable[..., Awaitable[KafkaBroker]]

    @property
    def dlq(self) -> str:
        """The group's dead-letter topic for the test's topic."""
        return dead_letter_topic(self.topic, self.group_id)

    async def create_dlq(self) -> None:
        await create_topics(self.bootstrap_servers, [self.dlq], partitions=1)

    async def publish(self, envelopes: list[Envelope[Any]]) -> None:
        """Publish to partition 0 of the topic, in order."""
        await publish_in_order(self.bootstrap_servers, self.topic, envelopes)

    async def start(self, **options: Any) -> KafkaBroker:
        """Start a member of the group: :func:`effect_consumer` with ``options``."""
        consumer = effect_consumer(self.sessions, self.topic, self.group_id, **options)
        return await self.start_consumers(consumer)

    async def caught_up(self, what: str | None = None, *, timeout: float = 60) -> None:
        """Wait until the group has committed every record of the topic; a timeout fails
        naming ``what`` was awaited."""

        async def no_lag() -> bool:
            return await self.lag() == 0

        what = what or f"{self.group_id} to commit every record of {self.topic}"
        await wait_until(no_lag, timeout=timeout, what=what)

    async def lag(self) -> int:
        """How many records of the topic the group has not committed yet."""
        return await lag(self.bootstrap_servers, self.group_id, self.topic)

    async def applied(self) -> list[int]:
        """The sequence numbers of the messages applied, in the order they were."""
        return [n for _, _, n in await effects(self.sessions)]

    async def dead_letters(self) -> list[ConsumerRecord[bytes, bytes]]:
        return await read_topic(self.bootstrap_servers, self.dlq)
