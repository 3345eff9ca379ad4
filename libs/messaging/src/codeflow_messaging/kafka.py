"""Kafka clients configured for delivery, not for speed alone.

FastStream's and aiokafka's defaults (``acks=1``, no idempotence, auto-commit, ``latest``)
can lose messages; everything CodeFlow opens towards Kafka is made here instead.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker

from codeflow_messaging.security import KafkaSecurity, resolve
from codeflow_messaging.tracing import TRACEPARENT

CONTENT_TYPE = "application/cloudevents+json"
"""The ``content-type`` header of every message: CloudEvents' structured mode for Kafka."""

MAX_BATCH_BYTES = 512 * 1024
"""The most a record batch of one partition holds (aiokafka's default is 16 KiB).

An idempotent producer has one batch per partition in flight, so every batch more of a
partition is one more produce round trip, waited for before the next is sent: a relay round
of 1,000 rows in 16 KiB batches took seven or eight of them per partition (ADR 0048). Half of
Kafka's default limit on a batch (``message.max.bytes`` and the topics'
``max.message.bytes``, 1 MiB): brokers and topics must not be set below it. A record larger
than this still goes in a batch of its own, and Kafka refuses it if it passes the limit."""

PRODUCER_OPTIONS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 5,
    "max_batch_size": MAX_BATCH_BYTES,
    "request_timeout_ms": 15_000,
    "retry_backoff_ms": 200,
}
"""Producer settings shared by the outbox relay and the dead-letter publisher."""


def create_producer(
    bootstrap_servers: str, *, client_id: str, security: KafkaSecurity | None = None
) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica (``acks=all``).

    ``security`` defaults, here and in every ``create_*`` of this module, to the process
    environment's (:meth:`KafkaSecurity.from_env`).
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        **PRODUCER_OPTIONS,
        **resolve(security).client_options(),
    )


def create_consumer(
    bootstrap_servers: str, *topics: str, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaConsumer:
    """A consumer of ``topics`` (or of what it is assigned) with ``options`` (a group,
    offsets...) and the security settings."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        **options,
        **resolve(security).client_options(),
    )


def create_admin(
    bootstrap_servers: str, *, security: KafkaSecurity | None = None, **options: Any
) -> AIOKafkaAdminClient:
    """An admin client with ``options`` and the security settings."""
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, **options, **resolve(security).client_options()
    )


class RecordRefused(Exception):
    """Kafka refuses a record for what it is, where aiokafka reports something else: a topic
    that the cluster's metadata says doesn't exist, or a record that can't be encoded."""


class HeldBack(Exception):
    """A record not sent because an earlier record of its key, in the same call, was not
    published: sending it would overtake that one."""


REFUSALS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
    RecordRefused,
)
"""The errors by which Kafka refuses the record (or batch) itself, however often it is sent."""


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` refuses the records it failed, as opposed to an outage.

    A refusal is final for the record as it is: too large, a topic that doesn't exist or may
    not be written, a record that can't be encoded. Anything else (connections, timeouts,
    leaders moving, whatever Kafka calls retriable, and errors about the producer rather
    than the record) is an outage, which must never count against a record.
    """
    return isinstance(error, REFUSALS)


@dataclass(eq=False)
class SentBatch:
    """Records sent to one partition as one batch, and the ids the caller gave them."""

    partition: TopicPartition
    ids: list[int] = field(default_factory=list)
    delivered: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """Done when Kafka acknowledged the batch, or with the error that failed it
    (:class:`HeldBack` if it was never sent because a batch it waits for failed)."""
    waits_for: set[SentBatch] = field(default_factory=set)
    """Earlier batches of the same partition holding records of the same keys: this one is
    sent only once they are acknowledged."""
    builder: Any = None
    sending: asyncio.Task[None] | None = None

    def abandon(self) -> None:
        """Don't send it if it is still waiting (the caller no longer waits for it)."""
        if self.sending is not None:
            self.sending.cancel()


Record = tuple[int, str, bytes, bytes, bool, bytes | None]
"""``(id, topic, key, value, alone, traceparent)``; ``alone`` sends the record in a batch of
its own; ``traceparent`` (the message's trace, if any) goes into a header of that name."""


async def send_batches(
    producer: AIOKafkaProducer, records: Iterable[Record]
) -> tuple[list[SentBatch], dict[int, BaseException]]:
    """Send records, each with the ``content-type`` header, in record batches built here;
    returns the batches sent (or to be sent) and the ids that could not be.

    A batch built by the caller costs far less per record than a ``send()`` each, and the
    producer's guarantees are the same. The partition is the one ``send()`` would choose
    (murmur2 of the key, as Kafka's own clients), and each key's records keep their order:
    a batch holding a key that an earlier batch of the same call also holds is sent only
    once that one is acknowledged, and not at all if it failed (:class:`HeldBack`), so a
    refused batch can't be overtaken by its keys' later records. A record marked ``alone``
    (one Kafka refused before) goes in a batch of its own, so a refusal fails no other
    record. Batches of other keys go out at once, whatever happens to the batches before.
    """
    return await _BatchSender(producer).send(records)


class _BatchSender:
    """One :func:`send_batches` call."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.sent: list[SentBatch] = []
        self.failed: dict[int, BaseException] = {}
        self._filling: dict[TopicPartition, SentBatch] = {}
        self._partitions: dict[str, list[int] | BaseException] = {}
        self._partition_of: dict[tuple[str, bytes], TopicPartition] = {}
        self._last_batch_of: dict[tuple[str, bytes], SentBatch] = {}
        self._failed_keys: set[tuple[str, bytes]] = set()
        # After a batch of a partition could not even be queued (an outage), none of that
        # partition's later records is sent in this call.
        self._broken: dict[TopicPartition, BaseException] = {}

    async def send(
        self, records: Iterable[Record]
    ) -> tuple[list[SentBatch], dict[int, BaseException]]:
        for record_id, topic, key, value, alone, traceparent in records:
            try:
                await self._add(record_id, topic, key, value, record_headers(traceparent), alone)
            except (KafkaError, OSError, RecordRefused) as exc:
                self._fail(record_id, (topic, key), exc)
        for tp in list(self._filling):
            await self._close(tp)
        return self.sent, self.failed

    async def _add(
        self, record_id: int, topic: str, key: bytes, value: bytes, headers: Headers, alone: bool
    ) -> None:
        if (topic, key) in self._failed_keys:
            self.failed[record_id] = HeldBack("an earlier message of its key was not published")
            return
        tp = await self._partition(topic, key)
        if tp in self._broken:
            raise self._broken[tp]
        if alone:
            await self._close(tp)  # the batch being filled goes first
        batch = self._filling.get(tp)
        if batch is None or not self._append(batch, record_id, topic, key, value, headers):
            await self._close(tp)
            if tp in self._broken:  # the full batch could not be queued
                raise self._broken[tp]
            batch = self._filling[tp] = SentBatch(tp, builder=self._producer.create_batch())
            # An empty batch takes any first record; one too large fails when it is sent.
            self._append(batch, record_id, topic, key, value, headers)
        if alone:
            await self._close(tp)

    async def _partition(self, topic: str, key: bytes) -> TopicPartition:
        tp = self._partition_of.get((topic, key))
        if tp is not None:
            return tp
        if topic not in self._partitions:
            try:
                self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
            except (KafkaError, OSError) as exc:  # no metadata: the topic's records fail
                self._partitions[topic] = await _unknown_topic_or(self._producer, topic, exc)
        known = self._partitions[topic]
        if isinstance(known, BaseException):
            raise known
        tp = self._partition_of[(topic, key)] = TopicPartition(
            topic, _PARTITIONER(key, known, known)
        )
        return tp

    def _append(
        self,
        batch: SentBatch,
        record_id: int,
        topic: str,
        key: bytes,
        value: bytes,
        headers: Headers,
    ) -> bool:
        try:
            appended = batch.builder.append(key=key, value=value, timestamp=None, headers=headers)
        except (TypeError, ValueError) as exc:
            raise RecordRefused(f"the record can't be encoded: {exc!r}") from exc
        if appended is None:
            return False
        batch.ids.append(record_id)
        earlier = self._last_batch_of.get((topic, key))
        if earlier is not None and earlier is not batch:
            batch.waits_for.add(earlier)
        self._last_batch_of[(topic, key)] = batch
        return True

    async def _close(self, tp: TopicPartition) -> None:
        """Send the batch being filled for ``tp``, or have it sent after those it waits for."""
        batch = self._filling.pop(tp, None)
        if batch is None or not batch.ids:
            return
        self.sent.append(batch)
        if batch.waits_for:
            batch.sending = asyncio.create_task(self._send_after(batch))
        else:
            await self._submit(batch)

    async def _send_after(self, batch: SentBatch) -> None:
        try:
            await asyncio.wait([earlier.delivered for earlier in batch.waits_for])
            if any(_failed(earlier.delivered) for earlier in batch.waits_for):
                _settle(batch.delivered, HeldBack("an earlier batch of its keys failed"))
                return
            await self._submit(batch)
        except Exception as exc:
            _settle(batch.delivered, exc)

    async def _submit(self, batch: SentBatch) -> None:
        tp = batch.partition
        # Closed, the batch is sent at once: an open one lingers (``linger_ms``) for records
        # that ``send()`` could add, and nothing here adds to a batch once it is submitted.
        batch.builder.close()
        try:
            future = await self._producer.send_batch(
                batch.builder, tp.topic, partition=tp.partition
            )
        except (KafkaError, OSError) as exc:
            self._broken.setdefault(tp, exc)
            _settle(batch.delivered, exc)
            return
        # The rewind must run before the producer sends the partition's next batch: first.
        future.add_done_callback(partial(_rewind_after_refusal, self._producer, tp, batch.builder))
        future.add_done_callback(partial(_pass_on, batch.delivered))

    def _fail(self, record_id: int, key: tuple[str, bytes], error: BaseException) -> None:
        self.failed[record_id] = error
        self._failed_keys.add(key)


async def _unknown_topic_or(
    producer: AIOKafkaProducer, topic: str, error: BaseException
) -> BaseException:
    """``error`` from a metadata wait, or :class:`RecordRefused` if it was about a topic that
    the cluster, when asked, says doesn't exist.

    aiokafka gives up waiting for a topic's metadata with UnknownTopicOrPartitionError both
    when the topic doesn't exist (or its name is invalid) and when no broker answered; only
    the first is a refusal.
    """
    outage = error
    if not isinstance(error, UnknownTopicOrPartitionError):
        return outage
    try:
        cluster = await producer.client.fetch_all_metadata()
    except (KafkaError, OSError):
        return outage
    if topic in cluster.topics():
        return outage
    return RecordRefused(f"topic {topic!r} does not exist")


def _rewind_after_refusal(
    producer: AIOKafkaProducer, tp: TopicPartition, builder: Any, delivered: asyncio.Future[Any]
) -> None:
    """Give the partition's sequence numbers back after Kafka refused a batch.

    An idempotent producer numbers each partition's records; a broker that refused a batch
    never saw its numbers, so it refuses every later batch as out of order. The Java client
    adjusts its sequence after such a failure; aiokafka (0.14) doesn't, and the producer
    would have to be replaced. This runs as the batch's first callback, before the sender
    drains the partition's next batch (one batch per partition is in flight), and rewinds
    only if no number was handed out since; otherwise the next batch fails as out of order,
    an outage, and the relay replaces the producer as before.
    """
    if delivered.cancelled() or not is_refusal(delivered.exception() or Exception()):
        return
    sequences = getattr(producer, "_txn_manager", None)
    sent = getattr(builder, "_buffer", None)
    if sequences is None or sent is None:
        return
    # A v2 record batch header holds its base sequence at byte 53 and its record count at 57.
    base, count = struct.unpack_from(">ii", sent, 53)
    if sequences.sequence_number(tp) == base + count:
        sequences.increment_sequence_number(tp, -count)


def _pass_on(to: asyncio.Future[Any], delivered: asyncio.Future[Any]) -> None:
    if delivered.cancelled():
        to.cancel()
    elif (error := delivered.exception()) is not None:
        _settle(to, error)
    else:
        if not to.done():
            to.set_result(delivered.result())


def _settle(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.cancelled() or future.exception() is not None


_PARTITIONER = DefaultPartitioner()
_CONTENT_TYPE_HEADER = ("content-type", CONTENT_TYPE.encode())

Headers = list[tuple[str, bytes]]


def record_headers(traceparent: bytes | None) -> Headers:
    """The headers of a published record: its content type, and a ``traceparent`` header
    when the message carries a trace (ADR 0027)."""
    if traceparent is None:
        return [_CONTENT_TYPE_HEADER]
    return [_CONTENT_TYPE_HEADER, (TRACEPARENT, traceparent)]


BROKER_LOGGER = "codeflow.kafka"
"""The logger FastStream's lines go to."""


def create_broker(
    bootstrap_servers: str,
    *,
    client_id: str,
    security: KafkaSecurity | None = None,
) -> KafkaBroker:
    """A FastStream broker whose own publishing (dead letters) is idempotent with ``acks=all``;
    its consumers and producer connect with ``security``.

    FastStream's own lines go to the logger :data:`BROKER_LOGGER`, and so through the
    process's logging like every other line (JSON where that is the format), instead of
    to a handler of FastStream's on stdout; its line for each message received and processed
    is DEBUG, its warnings and errors keep their levels (ADR 0036)."""
    options: dict[str, Any] = {
        "logger": logging.getLogger(BROKER_LOGGER),
        "log_level": logging.DEBUG,
    }
    security = resolve(security)
    faststream_security = security.faststream_security()
    if faststream_security is not None:
        options["security"] = faststream_security
    if security.authenticated:
        # Where principals and ACLs are enforced an admin creates the topics; a subscriber's
        # attempt would only be refused (and logged as a failure) at every start.
        options["allow_auto_create_topics"] = False
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=PRODUCER_OPTIONS["request_timeout_ms"],
        retry_backoff_ms=PRODUCER_OPTIONS["retry_backoff_ms"],
        **options,
    )


async def topic_partitions(
    bootstrap_servers: str, topic: str, *, security: KafkaSecurity | None = None
) -> list[TopicPartition]:
    """The partitions of ``topic``; empty if it doesn't exist."""
    admin = create_admin(bootstrap_servers, security=security)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0:
        return []
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])
