"""Consumers that handle each message once in effect, and never lose one.

The consumer reads records in batches (up to ``max_batch``) and, for each batch:

1. parses the envelopes (a record that isn't one goes straight to the dead-letter topic;
   types the group has no handler for are skipped);
2. in one database transaction, records the batch's message ids in the inbox with one
   statement, and runs the handlers of the messages it hadn't seen, in record order
   (duplicates are skipped). A message type may also register a batch handler, which applies
   a run of consecutive messages of that type in one go;
3. if that transaction fails, handles the batch's records one by one, each in a transaction
   of its own, so that one bad message can't hold the others back: a failing message is
   retried with backoff up to ``RetryPolicy.max_attempts`` (the batch counts as its first
   attempt when its handler was the one that failed), then published to
   ``<topic>.<group>.dlq`` with the error in its headers;
4. only then commits the offsets: at once when a record was the last its partition had,
   otherwise after ``commit_every`` records. Under a backlog that saves a round trip to Kafka
   per batch; a crash redelivers at most those records, and the inbox skips them. A
   partition a rebalance took during the batch is left to its new owner.

Losing the database connection is not the message's fault: such failures are retried until
the database answers again, a batch as a batch, without counting against the attempts, so an
outage never sends good messages to the dead-letter topic.

If the batch can't be finished (Kafka refuses a dead letter for good), the consumer rewinds
to the batch's first records and commits nothing past them: they are delivered again. A
group whose position expired under retention is reported (see :mod:`.retention_gaps`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, UnknownMessageType, parse_envelope
from codeflow_messaging.asyncapi import documented_as
from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.dead_letter_publisher import DeadLetterPublisher
from codeflow_messaging.failures import OUTAGE_BACKOFF, RetryPolicy, is_transient
from codeflow_messaging.inbox import record_all_processed, record_processed
from codeflow_messaging.retention_gaps import RetentionGapWatch

logger = logging.getLogger("codeflow.consumer")

Handler = Callable[[AsyncSession, Envelope[Any]], Awaitable[None]]
"""Applies one message inside the consumer's transaction; it only flushes, never commits."""

BatchHandler = Callable[[AsyncSession, Sequence[Envelope[Any]]], Awaitable[None]]
"""Applies consecutive messages of one type, in one go, inside the consumer's transaction.

Its effect must be that of the type's :data:`Handler` applied to each message in turn; it
only flushes, never commits.
"""

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Delivery:
    """A record whose envelope the group has a handler for."""

    record: Record
    envelope: Envelope[Any]
    handler: Handler

    @property
    def message_type(self) -> type[Message]:
        return type(self.envelope.data)


def _caught_up(consumer: Any, record: Record) -> bool:
    """Whether ``record`` is the last one its partition had when it was fetched.

    ``False`` for a partition this member no longer holds (a rebalance took it while the
    batch was handled): its new owner commits it, and redelivers what this member didn't.
    """
    tp = TopicPartition(record.topic, record.partition)
    if tp not in consumer.assignment():
        return False
    highwater = consumer.highwater(tp)
    return highwater is None or record.offset + 1 >= highwater


def _first_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The first offset of each partition's records (a batch holds each partition's in order)."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    return first


def _next_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The offset after each partition's last record."""
    return {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}


def in_steps(
    deliveries: Iterable[Delivery], batched: Iterable[type[Message]]
) -> Iterator[list[Delivery]]:
    """``deliveries`` in order, consecutive ones of a ``batched`` type together, others alone."""
    batched = frozenset(batched)
    step: list[Delivery] = []
    for delivery in deliveries:
        kind = delivery.message_type
        if step and kind in batched and step[0].message_type is kind:
            step.append(delivery)
            continue
        if step:
            yield step
        step = [delivery]
    if step:
        yield step


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
        handlers: Mapping[type[Message], Handler],
        sessions: SessionFactory,
        batch_handlers: Mapping[type[Message], BatchHandler] | None = None,
        retry: RetryPolicy | None = None,
        transient_backoff: Backoff = OUTAGE_BACKOFF,
        max_batch: int = 100,
        commit_every: int = 100,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self.handlers = dict(handlers)
        self.batch_handlers = dict(batch_handlers or {})
        if alone := [m.__name__ for m in self.batch_handlers if m not in self.handlers]:
            # A failed batch is handled one message at a time, with the per-message handler.
            raise ValueError(f"batch handlers need a per-message handler too: {alone}")
        self._sessions = sessions
        self.retry = retry or RetryPolicy()
        self.transient_backoff = transient_backoff
        if max_batch < 1 or commit_every < 1:
            raise ValueError("max_batch and commit_every must be at least 1")
        self.max_batch = max_batch
        self.commit_every = commit_every
        self._uncommitted = 0
        self._failures_in_a_row = 0  # batches that could not be finished
        self._dead_letters: DeadLetterPublisher | None = None
        self._gaps: RetentionGapWatch | None = None

    def subscribe(self, broker: KafkaBroker) -> None:
        """Register the subscriber on ``broker``; it consumes once the broker starts."""
        self._dead_letters = DeadLetterPublisher(
            broker.publish, group_id=self.group_id, backoff=self.transient_backoff
        )
        subscriber: Any = None
        gaps = self._gaps = RetentionGapWatch(
            self.group_id, lambda: None if subscriber is None else subscriber.consumer
        )

        title = f"{self.group_id}:{','.join(self.topics)}"

        async def consume(body: Any, message: KafkaMessage) -> None:
            records = cast("tuple[Record, ...]", message.raw_message)  # a batch subscriber's
            try:
                await gaps.check(_first_offsets(records))
                await self.handle_batch(records)
            except Exception:
                # The batch wasn't finished (a dead letter Kafka refused for good, say), so
                # nothing past its first records may be committed: deliver them again, after
                # a pause that grows while it keeps failing, as an outage is waited out.
                self._failures_in_a_row += 1
                self._rewind(message.consumer, records)
                await asyncio.sleep(self.transient_backoff.delay(self._failures_in_a_row))
                raise
            self._failures_in_a_row = 0
            gaps.handled(_next_offsets(records))
            self._uncommitted += len(records)
            if self._uncommitted >= self.commit_every or any(
                _caught_up(message.consumer, record) for record in records
            ):
                await self._commit(message)
                self._uncommitted = 0

        # The body is never used (the records are parsed by handle_batch()); its annotation
        # only tells the AsyncAPI document which envelopes this group consumes. Set here, not
        # in the signature, because annotations are strings in this module.
        consume.__annotations__ = {
            "body": documented_as(self.handlers, title=f"{title}:Envelope"),
            "message": KafkaMessage,
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
            + ", ".join(m.__name__ for m in self.handlers),
        )
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

    async def handle_batch(self, records: Sequence[Record]) -> None:
        """Handle ``records`` to completion, in order: each applied, skipped, or dead-lettered."""
        deliveries = [delivery for record in records if (delivery := await self._parse(record))]
        if deliveries:
            await self._apply_batch(deliveries)

    async def _parse(self, record: Record) -> Delivery | None:
        """The record as a delivery; ``None`` if there is nothing to apply (it was skipped, or
        dead-lettered because it isn't an envelope)."""
        try:
            envelope = parse_envelope(record.value)
        except UnknownMessageType as exc:
            logger.info("%s: skipping a message of a type it doesn't know: %s", self.group_id, exc)
            return None
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(record, exc, attempts=1)
            return None
        handler = self.handlers.get(type(envelope.data))
        return None if handler is None else Delivery(record, envelope, handler)

    async def _apply_batch(self, deliveries: list[Delivery]) -> None:
        """Apply ``deliveries`` in one transaction, or one by one if that fails."""
        at_fault: Delivery | None = None  # the message whose handler failed, if one did

        async def apply_all() -> int:
            nonlocal at_fault
            at_fault = None
            async with transaction(self._sessions) as session:
                fresh = await self._fresh(session, deliveries)
                for step in in_steps(fresh, self.batch_handlers):
                    at_fault = step[0] if len(step) == 1 else None
                    await self._apply_step(session, step)
                at_fault = None
            return len(fresh)

        try:
            applied = await self._until_the_database_answers(
                apply_all, f"applying a batch of {len(deliveries)} messages"
            )
        except Exception as exc:
            logger.warning(
                "%s: a batch of %d messages failed and was rolled back (%r); "
                "handling them one at a time, so only a message that keeps failing is "
                "dead-lettered",
                self.group_id,
                len(deliveries),
                exc,
            )
            for delivery in deliveries:
                failed = (exc,) if delivery is at_fault else ()
                await self._apply(delivery, failed=failed)
            return
        if skipped := len(deliveries) - applied:
            logger.info(
                "%s: %d of a batch of %d messages already handled; skipped the duplicates",
                self.group_id,
                skipped,
                len(deliveries),
            )

    async def _fresh(self, session: AsyncSession, deliveries: list[Delivery]) -> list[Delivery]:
        """The deliveries not handled before, in order, each message id once."""
        new_ids = await record_all_processed(
            session,
            consumer=self.group_id,
            messages=((d.envelope.id, d.envelope.type) for d in deliveries),
        )
        fresh = []
        for delivery in deliveries:
            if delivery.envelope.id in new_ids:
                new_ids.discard(delivery.envelope.id)  # a second copy in the batch is skipped
                fresh.append(delivery)
        return fresh

    async def _apply_step(self, session: AsyncSession, step: list[Delivery]) -> None:
        if len(step) == 1:
            await step[0].handler(session, step[0].envelope)
        else:
            await self.batch_handlers[step[0].message_type](session, [d.envelope for d in step])
        # Each handler sees the database as it would in a transaction of its own, not objects
        # an earlier handler loaded and changed behind the session's back.
        await session.flush()
        session.expunge_all()

    async def _apply(self, delivery: Delivery, *, failed: tuple[BaseException, ...] = ()) -> None:
        """Apply one delivery in a transaction of its own, retrying it in place; dead-letter it
        when it keeps failing. ``failed`` holds the errors of earlier attempts (in a batch)."""
        envelope = delivery.envelope
        attempts = len(failed)
        error = failed[-1] if failed else None
        while True:
            if error is not None:
                if attempts >= self.retry.max_attempts:
                    await self._dead_letter(delivery.record, error, attempts=attempts)
                    return
                delay = self.retry.backoff.delay(attempts)
                logger.warning(
                    "%s: handling %s %s failed (attempt %d of %d): %r; retrying in %.1fs",
                    self.group_id,
                    envelope.type,
                    envelope.id,
                    attempts,
                    self.retry.max_attempts,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
            try:
                fresh = await self._until_the_database_answers(
                    lambda: self._apply_alone(delivery), f"handling {envelope.id}"
                )
            except Exception as exc:
                attempts += 1
                error = exc
                continue
            if not fresh:
                logger.info(
                    "%s: %s %s already handled; skipped the duplicate",
                    self.group_id,
                    envelope.type,
                    envelope.id,
                )
            return

    async def _apply_alone(self, delivery: Delivery) -> bool:
        """Apply one delivery in its own transaction; ``False`` if it was a duplicate."""
        async with transaction(self._sessions) as session:
            fresh = await record_processed(
                session,
                consumer=self.group_id,
                message_id=delivery.envelope.id,
                message_type=delivery.envelope.type,
            )
            if fresh:
                await delivery.handler(session, delivery.envelope)
        return fresh

    async def _until_the_database_answers(
        self, attempt: Callable[[], Awaitable[_T]], doing: str
    ) -> _T:
        """Run ``attempt`` until it doesn't fail for want of a database; other errors raise."""
        outages = 0
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                outages += 1
                delay = self.transient_backoff.delay(outages)
                logger.warning(
                    "%s: database unavailable %s (%s); retrying in %.1fs",
                    self.group_id,
                    doing,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _dead_letter(self, record: Record, error: BaseException, *, attempts: int) -> None:
        if self._dead_letters is None:
            raise RuntimeError("ReliableConsumer.subscribe() was not called")
        await self._dead_letters.publish(record, error, attempts=attempts)

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
