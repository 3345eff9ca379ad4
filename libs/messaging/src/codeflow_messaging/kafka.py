"""Kafka clients configured for delivery, not for speed alone.

FastStream's and aiokafka's defaults (``acks=1``, no idempotence, auto-commit, ``latest``)
can lose messages; everything CodeFlow opens towards Kafka is made here instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker

CONTENT_TYPE = "application/cloudevents+json"
"""The ``content-type`` header of every message: CloudEvents' structured mode for Kafka."""

PRODUCER_OPTIONS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 5,
    "request_timeout_ms": 15_000,
    "retry_backoff_ms": 200,
}
"""Producer settings shared by the outbox relay and the dead-letter publisher."""


def create_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """An idempotent producer that waits for every in-sync replica (``acks=all``)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, client_id=client_id, **PRODUCER_OPTIONS
    )


@dataclass
class SentBatch:
    """Records sent to one partition as one batch, and the ids the caller gave them."""

    ids: list[int] = field(default_factory=list)
    delivered: asyncio.Future[Any] = field(init=False)
    """Done when Kafka acknowledged the batch, or with the error that failed it."""


async def send_batches(
    producer: AIOKafkaProducer, records: Iterable[tuple[int, str, bytes, bytes]]
) -> tuple[list[SentBatch], dict[int, BaseException]]:
    """Send ``(id, topic, key, value)`` records, each with the ``content-type`` header, in
    record batches built here; returns the batches sent and the ids that could not be.

    A batch built by the caller costs far less per record than a ``send()`` each, and the
    producer's guarantees are the same. The partition is the one ``send()`` would choose
    (murmur2 of the key, as Kafka's own clients), and each partition's records keep their
    order in ``records``.
    """
    sent: list[SentBatch] = []
    failed: dict[int, BaseException] = {}
    building: dict[TopicPartition, tuple[Any, SentBatch]] = {}
    partitions: dict[str, list[int] | BaseException] = {}
    partition_of: dict[tuple[str, bytes], int] = {}
    # After a batch of a partition failed, none of that partition's later records is sent:
    # they would overtake the failed ones, which are sent again later.
    broken: dict[TopicPartition, BaseException] = {}

    async def submit(tp: TopicPartition) -> None:
        builder, batch = building.pop(tp)
        try:
            batch.delivered = await producer.send_batch(builder, tp.topic, partition=tp.partition)
        except (KafkaError, OSError) as exc:
            failed.update(dict.fromkeys(batch.ids, exc))
            broken[tp] = exc
            return
        sent.append(batch)

    for record_id, topic, key, value in records:
        partition = partition_of.get((topic, key))
        if partition is None:
            if topic not in partitions:
                try:
                    partitions[topic] = sorted(await producer.partitions_for(topic))
                except (KafkaError, OSError) as exc:  # no metadata: the topic's records fail
                    partitions[topic] = exc
            known = partitions[topic]
            if isinstance(known, BaseException):
                failed[record_id] = known
                continue
            partition = _PARTITIONER(key, known, known)
            partition_of[(topic, key)] = partition
        tp = TopicPartition(topic, partition)
        if tp in broken:
            failed[record_id] = broken[tp]
            continue
        if tp in building and _append(building[tp], key, value, record_id):
            continue
        if tp in building:  # full
            await submit(tp)
            if tp in broken:
                failed[record_id] = broken[tp]
                continue
        building[tp] = (producer.create_batch(), SentBatch())
        # An empty batch takes any first record; one too large fails when it is sent.
        _append(building[tp], key, value, record_id)
    for tp in list(building):
        await submit(tp)
    return sent, failed


def _append(batch: tuple[Any, SentBatch], key: bytes, value: bytes, record_id: int) -> bool:
    builder, sent = batch
    if builder.append(key=key, value=value, timestamp=None, headers=_HEADERS) is None:
        return False
    sent.ids.append(record_id)
    return True


_HEADERS = [("content-type", CONTENT_TYPE.encode())]
_PARTITIONER = DefaultPartitioner()


def create_broker(
    bootstrap_servers: str, *, client_id: str, logger: logging.Logger | None = None
) -> KafkaBroker:
    """A FastStream broker whose own publishing (dead letters) is idempotent with ``acks=all``."""
    options: dict[str, Any] = {}
    if logger is not None:
        options["logger"] = logger
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=PRODUCER_OPTIONS["request_timeout_ms"],
        retry_backoff_ms=PRODUCER_OPTIONS["retry_backoff_ms"],
        **options,
    )


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic``; empty if it doesn't exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0:
        return []
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])
