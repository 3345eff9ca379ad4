"""Consumers that handle each message once in effect, and never lose one.

For every record the consumer:

1. parses the envelope (a record that isn't one goes straight to the dead-letter topic);
2. in one database transaction, records the message id in the inbox and runs the handler
   (a duplicate is skipped);
3. on failure, retries with backoff up to ``RetryPolicy.max_attempts``, then publishes the
   record to ``<topic>.<group>.dlq`` with the error in its headers;
4. only then commits the offset: at once when the record was the last its partition had,
   otherwise after ``commit_every`` records. Under a backlog that saves a round trip to Kafka
   per record; a crash redelivers at most those records, and the inbox skips them.

Losing the database connection is not the message's fault: such failures are retried until
the database answers again, without counting against the attempts, so an outage never sends
good messages to the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, UnknownMessageType, parse_envelope
from codeflow_contracts.topics import dead_letter_topic
from codeflow_messaging.asyncapi import documented_as
from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.dead_letters import dead_letter_headers
from codeflow_messaging.inbox import record_processed

logger = logging.getLogger("codeflow.consumer")

Handler = Callable[[AsyncSession, Envelope[Any]], Awaitable[None]]
"""Applies one message inside the consumer's transaction; it only flushes, never commits."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing handler is tried before its message is dead-lettered."""

    max_attempts: int = 5
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.2, maximum=5.0))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


OUTAGE_BACKOFF = Backoff(initial=0.5, maximum=10.0)
"""How long a consumer waits between tries while the database is unreachable."""

_SQLSTATE_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was unreachable rather than the message bad."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return sqlstate in _SQLSTATE_RETRYABLE
    return False


def _caught_up(consumer: Any, record: ConsumerRecord[bytes, bytes]) -> bool:
    """Whether ``record`` is the last one its partition had when it was fetched."""
    highwater = consumer.highwater(TopicPartition(record.topic, record.partition))
    return highwater is None or record.offset + 1 >= highwater


async def _raw_body(message: StreamMessage[Any]) -> bytes:
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
        retry: RetryPolicy | None = None,
        transient_backoff: Backoff = OUTAGE_BACKOFF,
        commit_every: int = 100,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self.handlers = dict(handlers)
        self._sessions = sessions
        self.retry = retry or RetryPolicy()
        self.transient_backoff = transient_backoff
        if commit_every < 1:
            raise ValueError("commit_every must be at least 1")
        self.commit_every = commit_every
        self._uncommitted = 0
        self._broker: KafkaBroker | None = None

    def subscribe(self, broker: KafkaBroker) -> None:
        """Register the subscriber on ``broker``; it consumes once the broker starts."""
        self._broker = broker

        title = f"{self.group_id}:{','.join(self.topics)}"

        async def consume(body: Any, message: KafkaMessage) -> None:
            record = message.raw_message
            await self.handle(record)
            self._uncommitted += 1
            if self._uncommitted >= self.commit_every or _caught_up(message.consumer, record):
                await self._commit(message)
                self._uncommitted = 0

        # The body is never used (the record is parsed by handle()); its annotation only
        # tells the AsyncAPI document which envelopes this group consumes. Set here, not in
        # the signature, because annotations are strings in this module.
        consume.__annotations__ = {
            "body": documented_as(self.handlers, title=f"{title}:Envelope"),
            "message": KafkaMessage,
            "return": None,
        }
        broker.subscriber(
            *self.topics,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw_body,
            title=title,
            description=f"Consumer group {self.group_id}: "
            + ", ".join(m.__name__ for m in self.handlers),
        )(consume)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Handle one record to completion: applied, skipped, or dead-lettered."""
        try:
            envelope = parse_envelope(record.value)
        except UnknownMessageType as exc:
            logger.info("%s: skipping a message of a type it doesn't know: %s", self.group_id, exc)
            return
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(record, exc, attempts=1)
            return
        handler = self.handlers.get(type(envelope.data))
        if handler is None:
            return
        await self._apply(record, envelope, handler)

    async def _apply(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope[Any], handler: Handler
    ) -> None:
        attempts = 0
        outages = 0
        while True:
            try:
                async with transaction(self._sessions) as session:
                    fresh = await record_processed(
                        session,
                        consumer=self.group_id,
                        message_id=envelope.id,
                        message_type=envelope.type,
                    )
                    if fresh:
                        await handler(session, envelope)
                if not fresh:
                    logger.info(
                        "%s: %s %s already handled; skipped the duplicate",
                        self.group_id,
                        envelope.type,
                        envelope.id,
                    )
                return
            except Exception as exc:
                if is_transient(exc):
                    outages += 1
                    delay = self.transient_backoff.delay(outages)
                    logger.warning(
                        "%s: database unavailable handling %s (%s); retrying in %.1fs",
                        self.group_id,
                        envelope.id,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                attempts += 1
                if attempts >= self.retry.max_attempts:
                    await self._dead_letter(record, exc, attempts=attempts)
                    return
                delay = self.retry.backoff.delay(attempts)
                logger.warning(
                    "%s: handling %s %s failed (attempt %d of %d): %r; retrying in %.1fs",
                    self.group_id,
                    envelope.type,
                    envelope.id,
                    attempts,
                    self.retry.max_attempts,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int
    ) -> None:
        if self._broker is None:
            raise RuntimeError("ReliableConsumer.subscribe() was not called")
        topic = dead_letter_topic(record.topic, self.group_id)
        headers = dead_letter_headers(record, error, group_id=self.group_id, attempts=attempts)
        failures = 0
        while True:
            try:
                await self._broker.publish(
                    record.value, topic=topic, key=record.key, headers=headers
                )
                break
            except (KafkaError, OSError) as exc:
                failures += 1
                delay = self.transient_backoff.delay(failures)
                logger.warning(
                    "%s: could not dead-letter to %s (%s); retrying in %.1fs",
                    self.group_id,
                    topic,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
        logger.error(
            "%s: dead-lettered %s[%d]@%d to %s after %d attempt(s): %r",
            self.group_id,
            record.topic,
            record.partition,
            record.offset,
            topic,
            attempts,
            error,
        )

    async def _commit(self, message: Any) -> None:
        try:
            await message.ack()
        except KafkaError as exc:
            # The partition moved to another member before the commit: it will deliver the
            # message again, and the inbox turns that into a no-op.
            logger.warning(
                "%s: offset commit failed (%s); the message may be redelivered", self.group_id, exc
            )
