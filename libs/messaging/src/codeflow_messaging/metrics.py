"""Prometheus metrics of the messaging side: the consumers and the outbox.

Every series is made by prometheus-client in the registry it is given (a service's app
registry, so ``GET /metrics`` shows them beside the HTTP ones); without one, a registry of
its own that nobody scrapes, so a consumer or relay built alone (a test, a tool) still runs.

Consumers, labelled ``group``, ``topic`` and ``partition`` (bounded by the topics'
partitions), measured as each batch is handled:

- ``kafka_consumer_lag``: the partition's high-water mark (from the consumer's last fetch)
  minus the group's position once the batch is applied, for each partition in the batch; a
  partition the member no longer holds is dropped (after each batch and at each scrape), so
  another member's lag is not shadowed by a stale number here;
- ``kafka_consumer_batch_records``: how many of a batch's records came from the partition;
- ``kafka_consumer_batch_duration_seconds`` (``group`` only: one batch spans partitions);
- ``kafka_consumer_retries_total``: attempts of a message alone after it failed;
- ``kafka_consumer_dead_letters_total``: records published to the dead-letter topic.

The outbox: ``outbox_published_total``, ``outbox_publish_failures_total`` by ``reason``
(``refused``: Kafka refused the record; ``outage``: Kafka or the network failed),
``outbox_set_aside_total``, counted by the relay's rounds; and ``outbox_pending_rows``,
``outbox_oldest_pending_age_seconds`` and ``outbox_set_aside_rows``, read from the table at
scrape time (:meth:`OutboxMetrics.measure`), so they keep telling the truth when the relay is
the thing that is stuck.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import text

from codeflow_messaging.database import SessionFactory
from codeflow_messaging.kafka import HeldBack, is_refusal

PARTITION = ("group", "topic", "partition")

BATCH_RECORDS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
"""Records per partition in a batch: a consumer reads at most ``max_batch`` at once (100 by
default, 500 for the erasure saga's groups)."""

_OUTBOX_STATE = text(
    "SELECT count(*) FILTER (WHERE set_aside_at IS NULL),"
    " count(*) FILTER (WHERE set_aside_at IS NOT NULL),"
    " coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE set_aside_at IS NULL)), 0)"
    " FROM outbox WHERE published_at IS NULL"
)


class PartitionPositions(Protocol):
    """What the lag is read from (aiokafka's consumer)."""

    def assignment(self) -> set[TopicPartition]: ...

    def highwater(self, tp: TopicPartition) -> int | None: ...

    async def position(self, tp: TopicPartition) -> int: ...


def _labels(group: str, record: ConsumerRecord[Any, Any]) -> tuple[str, str, str]:
    return group, record.topic, str(record.partition)


class ConsumerMetrics:
    """The consumer groups' batches, lag, retries and dead letters."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "kafka_consumer_lag",
            "Records of the partition the group has not consumed yet, once a batch is applied.",
            PARTITION,
            registry=registry,
        )
        self.batch_records = Histogram(
            "kafka_consumer_batch_records",
            "Records of the partition in one batch the group handled.",
            PARTITION,
            buckets=BATCH_RECORDS_BUCKETS,
            registry=registry,
        )
        self.batch_duration = Histogram(
            "kafka_consumer_batch_duration_seconds",
            "Time to apply one batch, retries and dead letters included.",
            ("group",),
            registry=registry,
        )
        self.retries = Counter(
            "kafka_consumer_retries",
            "Attempts of a message alone after it failed.",
            PARTITION,
            registry=registry,
        )
        self.dead_letters = Counter(
            "kafka_consumer_dead_letters",
            "Records given up on and published to the dead-letter topic.",
            PARTITION,
            registry=registry,
        )
        self._measured: dict[str, set[TopicPartition]] = {}
        self._consumers: dict[str, PartitionPositions] = {}

    async def batch_consumed(
        self,
        group: str,
        consumer: Any,
        records: Iterable[ConsumerRecord[Any, Any]],
        *,
        seconds: float,
    ) -> None:
        """Note a batch ``group`` applied in ``seconds``, and the lag it leaves on each of its
        partitions (read from ``consumer``, aiokafka's, as :class:`PartitionPositions`)."""
        per_partition = Tally(TopicPartition(r.topic, r.partition) for r in records)
        for tp, count in per_partition.items():
            self.batch_records.labels(group, tp.topic, str(tp.partition)).observe(count)
        self.batch_duration.labels(group).observe(seconds)
        await self._note_lag(group, consumer, per_partition)

    async def _note_lag(
        self, group: str, consumer: PartitionPositions, partitions: Iterable[TopicPartition]
    ) -> None:
        self._consumers[group] = consumer
        assigned = consumer.assignment()
        measured = self._drop_unassigned(group, assigned)
        for tp in assigned.intersection(partitions):
            highwater = consumer.highwater(tp)
            if highwater is None:  # no fetch answered for it yet
                continue
            try:
                position = await consumer.position(tp)
            except IllegalStateError:  # revoked while the others were read
                continue
            self.lag.labels(group, tp.topic, str(tp.partition)).set(max(highwater - position, 0))
            measured.add(tp)

    def drop_revoked(self) -> None:
        """Drop the lag of every partition its group's consumer no longer holds, also when
        no batch came since the rebalance took it (a member left with no partition)."""
        for group, consumer in self._consumers.items():
            self._drop_unassigned(group, consumer.assignment())

    def _drop_unassigned(self, group: str, assigned: set[TopicPartition]) -> set[TopicPartition]:
        measured = self._measured.setdefault(group, set())
        for tp in measured - assigned:
            self.lag.remove(group, tp.topic, str(tp.partition))
            measured.discard(tp)
        return measured

    def retried(self, group: str, record: ConsumerRecord[Any, Any]) -> None:
        self.retries.labels(*_labels(group, record)).inc()

    def dead_lettered(self, group: str, record: ConsumerRecord[Any, Any]) -> None:
        self.dead_letters.labels(*_labels(group, record)).inc()


class OutboxMetrics:
    """What the relay published, failed to publish and set aside; what is still pending."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "outbox_published",
            "Outbox rows Kafka acknowledged and the relay marked published.",
            registry=registry,
        )
        self.publish_failures = Counter(
            "outbox_publish_failures",
            "Outbox rows a relay round failed to publish, by reason (refused, outage).",
            ("reason",),
            registry=registry,
        )
        for reason in ("refused", "outage"):
            self.publish_failures.labels(reason)
        self.set_aside = Counter(
            "outbox_set_aside",
            "Outbox rows set aside after Kafka refused them too often.",
            registry=registry,
        )
        self.pending = Gauge(
            "outbox_pending_rows",
            "Outbox rows not published yet (set-aside rows not included), at scrape time.",
            registry=registry,
        )
        self.oldest_pending_age = Gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none is pending), at scrape time.",
            registry=registry,
        )
        self.set_aside_rows = Gauge(
            "outbox_set_aside_rows",
            "Outbox rows set aside and waiting for an operator, at scrape time.",
            registry=registry,
        )

    def round_ended(
        self, *, published: int, failed: Mapping[int, BaseException], set_aside: int
    ) -> None:
        """Count a relay round: rows published, rows failed by reason, rows set aside."""
        self.published.inc(published)
        reasons = Tally(
            "refused" if is_refusal(error) else "outage"
            for error in failed.values()
            if not isinstance(error, HeldBack)
        )
        for reason, rows in reasons.items():
            self.publish_failures.labels(reason).inc(rows)
        self.set_aside.inc(set_aside)

    async def measure(self, sessions: SessionFactory) -> None:
        """Read the pending rows' count and oldest age from the outbox (one query on the
        partial index of unpublished rows)."""
        async with sessions() as session:
            pending, set_aside, oldest = (await session.execute(_OUTBOX_STATE)).one()
        self.pending.set(pending)
        self.set_aside_rows.set(set_aside)
        self.oldest_pending_age.set(float(oldest))


class MessagingMetrics:
    """The consumers' and the outbox's metrics, in ``registry`` (or one of their own)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.consumers = ConsumerMetrics(self.registry)
        self.outbox = OutboxMetrics(self.registry)

    async def measure(self, sessions: SessionFactory) -> None:
        """What is measured at scrape time: the outbox's table, and the lag of partitions
        the consumers lost dropped."""
        self.consumers.drop_revoked()
        await self.outbox.measure(sessions)
