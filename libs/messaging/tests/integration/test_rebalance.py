"""A member joining the group while another is in the middle of a batch costs nothing.

Member A holds a batch (its handler waits on an event the test controls) while member B joins
the group; the rebalance takes some of A's partitions, records of which are in A's batch.
Then A finishes. Every message must take effect once, and nothing may be logged as an error.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker
from messaging_support import (
    FirstBatchHeld,
    activity,
    effect_consumer,
    effects,
    lag,
    users_out_of_order,
)

from codeflow_contracts import Envelope, to_json_bytes
from codeflow_messaging import SessionFactory
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PARTITIONS = 3  # the ``topic`` fixture's
PER_PARTITION = 10


def _user(partition: int) -> str:
    return f"user-{partition}"


async def _publish(bootstrap: str, topic: str, envelopes: Sequence[Envelope[Any]]) -> None:
    """Publish each envelope to the partition named by its user (``user-<partition>``)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            partition = int(envelope.data.user_id.removeprefix("user-"))
            await producer.send_and_wait(
                topic, to_json_bytes(envelope), key=envelope.kafka_key, partition=partition
            )
    finally:
        await producer.stop()


def _assignment(broker: KafkaBroker) -> set[TopicPartition]:
    [subscriber] = broker.subscribers
    consumer = getattr(subscriber, "consumer", None)
    return set() if consumer is None else set(consumer.assignment())


async def test_a_member_joining_while_another_is_mid_batch_applies_every_message_once_quietly(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    first_batch = FirstBatchHeld()
    first = [activity(_user(n % PARTITIONS), n) for n in range(PARTITIONS * PER_PARTITION)]
    await _publish(kafka_bootstrap_servers, topic, first)
    member_a = effect_consumer(sessions, topic, group_id, handler=first_batch.apply)
    broker_a = await start_consumers(member_a)
    await wait_until(first_batch.is_holding, timeout=60, what="member A to hold a batch")
    assert {m.user_id for m in first_batch.held} == {_user(p) for p in range(PARTITIONS)}, (
        "the held batch should have records of every partition"
    )
    # The stream goes on while A holds its batch: none of its records is the last of its
    # partition any more.
    second = [
        activity(_user(n % PARTITIONS), n)
        for n in range(len(first), len(first) + PARTITIONS * PER_PARTITION)
    ]
    await _publish(kafka_bootstrap_servers, topic, second)

    member_b = effect_consumer(sessions, topic, group_id)
    try:
        broker_b = await start_consumers(member_b)

        async def rebalanced() -> bool:
            a, b = _assignment(broker_a), _assignment(broker_b)
            return bool(a) and bool(b) and len(a) + len(b) == PARTITIONS

        await wait_until(rebalanced, timeout=60, what="B to take some of A's partitions")
    finally:
        first_batch.release.set()

    async def all_applied() -> bool:
        return await lag(kafka_bootstrap_servers, group_id, topic) == 0 and len(
            await effects(sessions)
        ) >= len(first) + len(second)

    await wait_until(all_applied, timeout=90, what="both members to apply every message")
    applied = await effects(sessions)
    assert Counter(m for m, _, _ in applied) == Counter(str(e.id) for e in first + second)
    assert users_out_of_order(applied) == []
    errors = [
        f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR
    ]
    assert errors == []
