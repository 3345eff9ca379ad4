"""The consumers' and the outbox's metrics, counted where they happen: a consumed batch, a
retry, a dead letter, a relay round's published, refused and failed rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from prometheus_client import CollectorRegistry

from codeflow_contracts import UserActive, new_envelope
from codeflow_messaging import Backoff, RetryPolicy
from codeflow_messaging.kafka import HeldBack
from codeflow_messaging.metrics import MessagingMetrics
from codeflow_messaging.retries import Retries
from codeflow_messaging.testing import received_record

TOPIC = "auth.user-events"
_ENVELOPE = new_envelope(
    UserActive(user_id="user-1", active_at=datetime(2026, 1, 1, tzinfo=UTC)), source="codeflow/auth"
)


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def _record(partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    record = received_record()
    record.partition = partition
    record.offset = offset
    return record


class _Consumer:
    """What the metrics read of aiokafka's consumer: its assignment, each partition's
    high-water mark (from the last fetch) and the group's position."""

    def __init__(self, highwater: dict[int, int], position: dict[int, int]) -> None:
        self.highwaters = {TopicPartition(TOPIC, p): o for p, o in highwater.items()}
        self.positions = {TopicPartition(TOPIC, p): o for p, o in position.items()}

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters.get(tp)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]


async def test_a_consumed_batch_is_measured_per_partition_with_the_lag_it_leaves() -> None:
    metrics = MessagingMetrics()
    consumer = _Consumer(highwater={0: 10, 1: 7}, position={0: 3, 1: 7})
    records = [_record(0, 1), _record(0, 2), _record(1, 6)]

    await metrics.consumers.batch_consumed("profiles", consumer, records, seconds=0.25)

    registry = metrics.registry
    at = {"group": "profiles", "topic": TOPIC}
    assert _value(registry, "kafka_consumer_lag", **at, partition="0") == 7
    assert _value(registry, "kafka_consumer_lag", **at, partition="1") == 0
    assert _value(registry, "kafka_consumer_batch_records_sum", **at, partition="0") == 2
    assert _value(registry, "kafka_consumer_batch_records_count", **at, partition="1") == 1
    assert _value(registry, "kafka_consumer_batch_duration_seconds_count", group="profiles") == 1
    assert _value(registry, "kafka_consumer_batch_duration_seconds_sum", group="profiles") == 0.25


async def test_the_lag_of_a_partition_this_member_no_longer_holds_is_dropped() -> None:
    metrics = MessagingMetrics()
    consumer = _Consumer(highwater={0: 10, 1: 7}, position={0: 3, 1: 7})
    await metrics.consumers.batch_consumed("profiles", consumer, [_record(0, 2)], seconds=0.1)
    del consumer.highwaters[TopicPartition(TOPIC, 0)]  # a rebalance took it

    await metrics.consumers.batch_consumed("profiles", consumer, [_record(1, 6)], seconds=0.1)

    at = {"group": "profiles", "topic": TOPIC}
    assert _value(metrics.registry, "kafka_consumer_lag", **at, partition="0") is None
    assert _value(metrics.registry, "kafka_consumer_lag", **at, partition="1") == 0


async def test_a_partition_a_rebalance_took_is_dropped_at_the_scrape_if_no_batch_came_since() -> (
    None
):
    metrics = MessagingMetrics()
    consumer = _Consumer(highwater={0: 10}, position={0: 3})
    await metrics.consumers.batch_consumed("profiles", consumer, [_record(0, 2)], seconds=0.1)
    consumer.highwaters.clear()  # the member lost every partition: no batch comes any more

    metrics.consumers.drop_revoked()

    at = {"group": "profiles", "topic": TOPIC, "partition": "0"}
    assert _value(metrics.registry, "kafka_consumer_lag", **at) is None


class _DeadLetters:
    def __init__(self) -> None:
        self.published: list[ConsumerRecord[bytes, bytes]] = []

    async def publish(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, **_: Any
    ) -> None:
        self.published.append(record)


def _retries(metrics: MessagingMetrics) -> Retries:
    """Profiles' retries: three attempts in all, a millisecond apart."""
    policy = RetryPolicy(max_attempts=3, backoff=Backoff(initial=0.001, maximum=0.001))
    return Retries("profiles", policy=policy, metrics=metrics)


async def test_a_message_that_keeps_failing_counts_its_retries_then_one_dead_letter() -> None:
    metrics = MessagingMetrics()
    retries = _retries(metrics)
    dead_letters = _DeadLetters()
    retries.dead_letters = dead_letters  # type: ignore[assignment]
    record = received_record()

    async def fails() -> bool:
        raise ValueError("bad payload")

    await retries.apply_alone(record, _ENVELOPE, fails)

    at = {"group": "profiles", "topic": record.topic, "partition": str(record.partition)}
    assert dead_letters.published == [record]
    assert _value(metrics.registry, "kafka_consumer_retries_total", **at) == 2
    assert _value(metrics.registry, "kafka_consumer_dead_letters_total", **at) == 1


async def test_a_message_passing_on_its_second_attempt_counts_one_retry_and_no_dead_letter() -> (
    None
):
    metrics = MessagingMetrics()
    retries = _retries(metrics)
    record = received_record()

    async def passes() -> bool:
        return True

    await retries.apply_alone(record, _ENVELOPE, passes, failed=(ValueError("once"),))

    at = {"group": "profiles", "topic": record.topic, "partition": str(record.partition)}
    assert _value(metrics.registry, "kafka_consumer_retries_total", **at) == 1
    assert _value(metrics.registry, "kafka_consumer_dead_letters_total", **at) is None


@pytest.mark.parametrize(
    ("failed", "expected"),
    [
        ({}, {}),
        ({1: MessageSizeTooLargeError()}, {"refused": 1}),
        ({1: KafkaConnectionError(), 2: KafkaConnectionError()}, {"outage": 2}),
        ({1: KafkaConnectionError(), 2: HeldBack()}, {"outage": 1}),
    ],
    ids=["none", "a refusal", "an outage", "a row held back is no failure of its own"],
)
def test_a_relay_round_counts_published_rows_and_failed_ones_by_reason(
    failed: dict[int, BaseException], expected: dict[str, int]
) -> None:
    metrics = MessagingMetrics()

    metrics.outbox.round_ended(published=5, failed=failed, set_aside=1)

    registry = metrics.registry
    assert _value(registry, "outbox_published_total") == 5
    assert _value(registry, "outbox_set_aside_total") == 1
    for reason in ("refused", "outage"):
        got = _value(registry, "outbox_publish_failures_total", reason=reason)
        assert got == expected.get(reason, 0)


def test_every_messaging_metric_is_in_the_registry_it_is_given_before_anything_happens() -> None:
    registry = CollectorRegistry()
    MessagingMetrics(registry)

    names = {metric.name for metric in registry.collect()}

    assert {
        "kafka_consumer_lag",
        "kafka_consumer_batch_records",
        "kafka_consumer_batch_duration_seconds",
        "kafka_consumer_retries",
        "kafka_consumer_dead_letters",
        "outbox_published",
        "outbox_publish_failures",
        "outbox_set_aside",
        "outbox_pending_rows",
        "outbox_oldest_pending_age_seconds",
        "outbox_set_aside_rows",
    } <= names
