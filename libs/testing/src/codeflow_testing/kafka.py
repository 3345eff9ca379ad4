"""Kafka for integration tests: reading topics back, and consumer groups that start at the
end of shared topics."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from aiokafka import ConsumerRecord, TopicPartition

from codeflow_messaging.kafka import create_admin, create_consumer, topic_partitions


async def partitions_of(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic``; empty if it doesn't exist."""
    return await topic_partitions(bootstrap_servers, topic)


async def read_topic(bootstrap_servers: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic`` now, from the beginning, with a plain consumer (no group)."""
    assignment = await partitions_of(bootstrap_servers, topic)
    if not assignment:
        return []
    consumer = create_consumer(bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(assignment)
        await consumer.seek_to_beginning(*assignment)
        end = await consumer.end_offsets(assignment)
        records: list[ConsumerRecord[bytes, bytes]] = []
        for tp in assignment:
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=5_000)
                records.extend(r for r in batch.get(tp, []) if r.offset < end[tp])
        return records
    finally:
        await consumer.stop()


async def start_group_at_end(bootstrap_servers: str, group_id: str, topics: Iterable[str]) -> None:
    """Commit ``group_id``'s offsets at the current end of ``topics``.

    A consumer group made for one test then sees only what that test publishes, not what
    earlier tests left on shared topics.
    """
    partitions = [tp for topic in topics for tp in await partitions_of(bootstrap_servers, topic)]
    consumer = create_consumer(bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()


async def group_lag(bootstrap_servers: str, group_id: str, topics: Iterable[str]) -> int:
    """How many records now on ``topics`` ``group_id`` has not committed yet."""
    partitions = [tp for topic in topics for tp in await partitions_of(bootstrap_servers, topic)]
    admin = create_admin(bootstrap_servers)
    consumer = create_consumer(bootstrap_servers)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
        await admin.close()
    return sum(
        max(0, end - (committed[tp].offset if tp in committed else 0)) for tp, end in ends.items()
    )


async def new_group_at_end(bootstrap_servers: str, prefix: str, topics: Iterable[str]) -> str:
    """A consumer group id of the caller's own (``<prefix>-<random>``), its offsets committed
    at the current end of ``topics`` (see :func:`start_group_at_end`)."""
    group_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    await start_group_at_end(bootstrap_servers, group_id, topics)
    return group_id
