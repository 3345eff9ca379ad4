"""The session fixtures and the client helpers, on whatever servers the fixtures provide."""

from __future__ import annotations

import uuid

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from codeflow_infra.kafka import create_topics, wait_until_ready
from codeflow_infra.postgres import create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def database_names(maintenance_url: str) -> set[str]:
    connection = await asyncpg.connect(maintenance_url, timeout=10)
    try:
        return {row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")}
    finally:
        await connection.close()


async def test_a_database_is_created_once_and_dropped_even_while_connected(
    postgres_url: str,
) -> None:
    name = f"infra_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_url, name)
    assert await create_database(postgres_url, name) == url

    connection = await asyncpg.connect(url, timeout=10)
    try:
        assert await connection.fetchval("SELECT current_database()") == name
        await drop_database(postgres_url, name)
    finally:
        await connection.close()

    assert name not in await database_names(postgres_url)
    await drop_database(postgres_url, name)  # dropping a missing database is fine


async def test_topics_are_created_once_and_carry_messages(kafka_bootstrap_servers: str) -> None:
    await wait_until_ready(kafka_bootstrap_servers, timeout=60)
    topic = f"infra.test.{uuid.uuid4().hex[:12]}"
    assert await create_topics(kafka_bootstrap_servers, [topic], partitions=3) == [topic]
    assert await create_topics(kafka_bootstrap_servers, [topic], partitions=3) == []

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"infra-test-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        assert (record.key, record.value) == (b"k", b"hello")
        assert len(consumer.partitions_for_topic(topic) or ()) == 3
    finally:
        await consumer.stop()
