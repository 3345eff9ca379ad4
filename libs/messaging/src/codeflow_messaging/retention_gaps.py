"""Saying so when a consumer group's position expired under retention.

Consumers start from ``earliest``; when the records a group should read next were deleted
(retention ran while the group was away, or longer than its lag), Kafka answers "offset out
of range" and aiokafka quietly moves the group to the partition's log start. The messages in
between are lost to the group, and its projections are missing them.

:class:`RetentionGapWatch` finds that out in two places, and logs an ERROR naming the group,
the partition, the offsets and the count, and what to do (rebuild the projections):

- when partitions are assigned: the group's committed offset is older than the log start;
- while consuming: a batch starts past the offset expected next, and that offset is older
  than the log start (the fetch position went out of range and was reset).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

logger = logging.getLogger("codeflow.consumer")

REBUILD_HINT = (
    "the projections this group keeps must be rebuilt from the owning service (see the "
    "service's README, section 'Rebuilding')"
)


class RetentionGapWatch(ConsumerRebalanceListener):  # type: ignore[misc]
    """A rebalance listener, and a check of each batch, that report expired positions."""

    def __init__(self, group_id: str, consumer: Callable[[], AIOKafkaConsumer | None]) -> None:
        self.group_id = group_id
        self._consumer = consumer
        # The offset each assigned partition should deliver next, where it is known.
        self._expected: dict[TopicPartition, int] = {}
        self.assignment: frozenset[TopicPartition] = frozenset()
        """The partitions this member holds now."""

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.assignment = frozenset()
        for tp in revoked:
            self._expected.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assigned = frozenset(assigned)
        self.assignment = assigned
        consumer = self._consumer()
        if consumer is None or not assigned:
            return
        try:
            committed, log_starts = await asyncio.gather(
                _committed(consumer, assigned), consumer.beginning_offsets(list(assigned))
            )
        except KafkaError as exc:
            logger.warning(
                "%s: could not compare its committed offsets with the log start of %s (%r); "
                "an expired position would go unreported",
                self.group_id,
                sorted(assigned),
                exc,
            )
            return
        for tp in assigned:
            at = committed.get(tp)
            if at is None:
                continue
            log_start = log_starts[tp]
            if at < log_start:
                self._report(tp, expected=at, log_start=log_start, found="committed offset")
            self._expected[tp] = max(at, log_start)

    async def check(self, first_offsets: Mapping[TopicPartition, int]) -> None:
        """Report a batch that starts past the offset expected next because the records in
        between expired. ``first_offsets`` is the first offset of each partition's records."""
        jumped = {
            tp: self._expected[tp]
            for tp, first in first_offsets.items()
            if tp in self._expected and first > self._expected[tp]
        }
        consumer = self._consumer()
        if not jumped or consumer is None:
            return
        try:
            log_starts = await consumer.beginning_offsets(list(jumped))
        except KafkaError as exc:
            logger.warning(
                "%s: %s skipped ahead, and the log start could not be read (%r)",
                self.group_id,
                sorted(jumped),
                exc,
            )
            return
        for tp, expected in jumped.items():
            if expected < log_starts[tp]:
                self._report(tp, expected=expected, log_start=log_starts[tp], found="next offset")

    def handled(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        """Note where each partition goes on: after its last record handled, or where it was
        rewound to."""
        for tp, offset in next_offsets.items():
            if tp in self.assignment:
                self._expected[tp] = offset

    def _report(self, tp: TopicPartition, *, expected: int, log_start: int, found: str) -> None:
        logger.error(
            "%s: messages lost to retention on %s[%d]: the group's %s is %d but the log now "
            "starts at %d, so %d message(s) expired before the group read them and are "
            "skipped; %s",
            self.group_id,
            tp.topic,
            tp.partition,
            found,
            expected,
            log_start,
            log_start - expected,
            REBUILD_HINT,
        )
        self._expected[tp] = log_start


async def _committed(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int | None]:
    partitions = list(partitions)
    offsets = await asyncio.gather(*(consumer.committed(tp) for tp in partitions))
    return dict(zip(partitions, offsets, strict=True))
