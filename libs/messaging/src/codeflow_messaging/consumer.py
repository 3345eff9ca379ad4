"""Consumers that handle each message once in effect, and never lose one.

A consumer group has one handler per message type, which applies a batch of typed envelopes
(:class:`~codeflow_messaging.dispatch.Handles`). The consumer reads records in batches (up
to ``max_batch``) and, for each batch:

1. parses the envelopes (a record that isn't one goes straight to the dead-letter topic;
   types the group has no handler for are skipped);
2. in one database transaction, records the batch's message ids in the inbox with one
   statement, and applies the messages it hadn't seen (duplicates are skipped) in record
   order: each run of consecutive messages of one type in one call of that type's handler;
3. if that transaction fails, handles the batch's records one by one, each in a transaction
   of its own (its handler called with that message alone), so that one bad message can't
   hold the others back: a failing message is retried with backoff up to
   ``RetryPolicy.max_attempts`` (the batch counts as its first attempt when the run that
   failed was that message alone), then published to ``<topic>.<group>.dlq`` with the error
   in its headers;
4. only then commits the offsets: at once when a record was the last its partition had,
   otherwise after ``commit_every`` records (ten batches of the default size). Under a
   backlog that saves a round trip to Kafka for nine batches in ten; a crash redelivers at
   most those records, and the inbox skips them. A partition a rebalance took during the
   batch is left to its new owner.

Losing the database connection is not the message's fault: such failures are retried until
the database answers again, a batch as a batch, without counting against the attempts, so an
outage never sends good messages to the dead-letter topic.

If the batch can't be finished (Kafka refuses a dead letter for good), the consumer rewinds
to the batch's first records and commits nothing past them: they are delivered again. A
group whose position expired under retention is reported (see :mod:`.retention_gaps`).

Steps 1 to 3 are :mod:`.dispatch`'s (retrying a message alone, waiting out an outage and
dead-lettering are :mod:`.retries`'); this module is the Kafka side: the subscriber, the
commit cadence, the rewind and the retention watch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from faststream.message import StreamMessage

from codeflow_messaging.asyncapi import documented_as
from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory
from codeflow_messaging.dead_letter_publisher import DeadLetterPublisher
from codeflow_messaging.dispatch import Dispatcher, Handles
from codeflow_messaging.failures import OUTAGE_BACKOFF, RetryPolicy
from codeflow_messaging.fetching import CONSUMER_OPTIONS, fetch_without_pause
from codeflow_messaging.metrics import MessagingMetrics
from codeflow_messaging.retention_gaps import RetentionGapWatch
from codeflow_messaging.retries import Record, Retries

logger = logging.getLogger("codeflow.consumer")


def _caught_up(consumer: Any, ends: Mapping[TopicPartition, int]) -> bool:
    """Whether a batch, ending at ``ends`` (the offset after its last record, by partition),
    took the last record one of its partitions had when it was fetched.

    A partition this member no longer holds (a rebalance took it while the batch was handled)
    doesn't count: its new owner commits it, and redelivers what this member didn't.
    """
    assigned = consumer.assignment()
    for tp, end in ends.items():
        if tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None or end >= highwater:
                return True
    return False


def _first_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The first offset of each partition's records (a batch holds each partition's in order)."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    return first


def _next_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The offset after each partition's last record."""
    return {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}


async def _raw_body(message: StreamMessage[Any]) -> Any:
    # The consumer parses envelopes itself, so that a record that isn't one is dead-lettered
    # instead of failing inside the framework and being skipped.
    return message.body


class ReliableConsumer:
    """One consumer group: its topics, its handlers by message type, and its database."""

    def __init__(
        self,
        *,
        group_id: str,
        topics: Iterable[str],
        handlers: Iterable[Handles],
        sessions: SessionFactory,
        retry: RetryPolicy | None = None,
        transient_backoff: Backoff = OUTAGE_BACKOFF,
        max_batch: int = 100,
        commit_every: int = 1_000,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self.retries = Retries(group_id, policy=retry, outage_backoff=transient_backoff)
        self.dispatch = Dispatcher(group_id, handlers, sessions, self.retries)
        if max_batch < 1 or commit_every < 1:
            raise ValueError("max_batch and commit_every must be at least 1")
        self.max_batch = max_batch
        self.commit_every = commit_every
        self._uncommitted = 0
        self._failures_in_a_row = 0  # batches that could not be finished
        self._gaps: RetentionGapWatch | None = None

    def subscribe(self, broker: KafkaBroker, metrics: MessagingMetrics | None = None) -> None:
        """Register the subscriber on ``broker``; it consumes once the broker starts. Its
        batches, lag, retries and dead letters are measured in ``metrics``."""
        self.retries.metrics = metrics or self.retries.metrics
        self.retries.dead_letters = DeadLetterPublisher(
            broker.publish, group_id=self.group_id, backoff=self.retries.outage_backoff
        )
        subscriber: Any = None
        gaps = self._gaps = RetentionGapWatch(
            self.group_id, lambda: None if subscriber is None else subscriber.consumer
        )

        title = f"{self.group_id}:{','.join(self.topics)}"

        context = broker.context

        async def consume(body: Any) -> None:
            # The message is taken from FastStream's context, not asked for as a parameter:
            # fast_depends resolves such a parameter in a worker thread, two thread wake-ups
            # per batch (ADR 0036).
            message: KafkaMessage = context.get_local("message")
            records = cast("tuple[Record, ...]", message.raw_message)  # a batch subscriber's
            started = time.perf_counter()
            try:
                await gaps.check(_first_offsets(records))
                await self.dispatch.handle(records)
            except Exception:
                # The batch wasn't finished (a dead letter Kafka refused for good, say), so
                # nothing past its first records may be committed: deliver them again, after
                # a pause that grows while it keeps failing, as an outage is waited out.
                self._failures_in_a_row += 1
                self._rewind(message.consumer, records)
                await asyncio.sleep(self.retries.outage_backoff.delay(self._failures_in_a_row))
                raise
            self._failures_in_a_row = 0
            await self.retries.metrics.consumers.batch_consumed(
                self.group_id, message.consumer, records, seconds=time.perf_counter() - started
            )
            ends = _next_offsets(records)
            gaps.handled(ends)
            self._uncommitted += len(records)
            if self._uncommitted >= self.commit_every or _caught_up(message.consumer, ends):
                await self._commit(message)
                self._uncommitted = 0

        # The body is never used (the records are parsed by the dispatcher); its annotation
        # only tells the AsyncAPI document which envelopes this group consumes. Set here, not
        # in the signature, because annotations are strings in this module.
        consume.__annotations__ = {
            "body": documented_as(self.dispatch.message_types, title=f"{title}:Envelope"),
            "return": None,
        }
        subscriber = broker.subscriber(
            *self.topics,
            batch=True,
            max_records=self.max_batch,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            listener=gaps,
            decoder=_raw_body,
            title=title,
            description=f"Consumer group {self.group_id}: "
            + ", ".join(m.__name__ for m in self.dispatch.message_types),
            **CONSUMER_OPTIONS,
        )
        fetch_without_pause(subscriber)
        subscriber(consume)

    def _rewind(self, consumer: AIOKafkaConsumer, records: Sequence[Record]) -> None:
        """Move each partition this member still holds back to its first record in
        ``records``, so the next fetch delivers them again (the inbox skips those that were
        applied) and no commit passes them."""
        first = {tp: o for tp, o in _first_offsets(records).items() if tp in consumer.assignment()}
        for tp, offset in first.items():
            try:
                consumer.seek(tp, offset)
            except IllegalStateError:  # revoked meanwhile: its new owner starts from the commit
                continue
        if self._gaps is not None:
            self._gaps.handled(first)

    async def _commit(self, message: Any) -> None:
        try:
            await message.ack()
        except KafkaError as exc:
            # The partition moved to another member before the commit: it will deliver the
            # messages again, and the inbox turns that into a no-op.
            logger.warning(
                "%s: offset commit failed (%s); the messages may be redelivered",
                self.group_id,
                exc,
            )
