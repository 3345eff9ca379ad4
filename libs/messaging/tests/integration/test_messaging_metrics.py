"""The numbers that come from Kafka and PostgreSQL: a group's lag from its partitions'
high-water marks and its position, the outbox's pending rows and oldest age from the table."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from messaging_support import (
    ConsumerGroup,
    activity,
    effect_consumer,
    record_effects,
    write_to_outbox,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserActive
from codeflow_messaging import SessionFactory, transaction
from codeflow_messaging.metrics import MessagingMetrics
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_groups_lag_is_what_kafka_holds_past_its_position_after_each_batch(
    group: ConsumerGroup,
) -> None:
    metrics = MessagingMetrics()
    at = {"group": group.group_id, "topic": group.topic, "partition": "0"}
    seen: list[float | None] = []

    async def note_lag_then_apply(
        session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]
    ) -> None:
        seen.append(metrics.registry.get_sample_value("kafka_consumer_lag", at))
        await record_effects(session, envelopes)

    await group.publish([activity("user-a", n) for n in range(5)])
    consumer = effect_consumer(
        group.sessions, group.topic, group.group_id, handler=note_lag_then_apply, max_batch=2
    )
    consumer.retries.metrics = metrics
    await group.start_consumers(consumer)
    await group.caught_up()

    async def no_lag() -> bool:
        return metrics.registry.get_sample_value("kafka_consumer_lag", at) == 0

    await wait_until(no_lag, timeout=30, what="the lag gauge to reach 0")
    assert seen == [None, 3, 1]
    assert metrics.registry.get_sample_value("kafka_consumer_batch_records_sum", at) == 5
    assert metrics.registry.get_sample_value("kafka_consumer_batch_records_count", at) == 3


async def test_the_outbox_pending_rows_and_oldest_age_are_read_from_the_table(
    sessions: SessionFactory, topic: str, start_relay
) -> None:
    metrics = MessagingMetrics()
    outbox = metrics.outbox

    def value(name: str) -> float | None:
        return metrics.registry.get_sample_value(name)

    await write_to_outbox(sessions, [activity(user, 1) for user in ("a", "b", "c")], topic=topic)
    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE outbox SET set_aside_at = now() WHERE id = (SELECT min(id) FROM outbox)")
        )
    await asyncio.sleep(0.05)
    await outbox.measure(sessions)

    assert value("outbox_pending_rows") == 2
    assert value("outbox_set_aside_rows") == 1
    oldest = value("outbox_oldest_pending_age_seconds")
    assert oldest is not None
    assert 0.05 <= oldest < 30

    start_relay(metrics=metrics)

    async def published() -> bool:
        return value("outbox_published_total") == 2

    await wait_until(published, timeout=60, what="the relay to count two rows published")
    await outbox.measure(sessions)
    assert value("outbox_pending_rows") == 0
    assert value("outbox_oldest_pending_age_seconds") == 0
    assert value("outbox_set_aside_rows") == 1
