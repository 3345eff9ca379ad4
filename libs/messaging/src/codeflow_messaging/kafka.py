"""Kafka clients configured for delivery, not for speed alone.

FastStream's and aiokafka's defaults (``acks=1``, no idempotence, auto-commit, ``latest``)
can lose messages; everything CodeFlow opens towards Kafka is made here instead.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
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
