"""Kafka administration the fault tests need: topics with their own limits, records deleted
from the head of a partition, a group's committed offset set by hand."""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType


async def create_topic(
    bootstrap_servers: str, name: str, *, partitions: int = 1, configs: Mapping[str, str]
) -> None:
    """Create ``name`` with the topic ``configs`` given (e.g. ``max.message.bytes``)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name, partitions, 1, topic_configs=dict(configs))]
        )
        for topic, error_code, *_ in response.topic_errors:
            assert error_code == 0, f"creating {topic} failed with error code {error_code}"
    finally:
        await admin.close()


async def set_topic_configs(bootstrap_servers: str, name: str, configs: Mapping[str, str]) -> None:
    """Replace the topic's own configs by ``configs``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, configs=dict(configs))]
        )
    finally:
        await admin.close()


async def delete_records_before(bootstrap_servers: str, tp: TopicPartition, offset: int) -> int:
    """Delete the records of ``tp`` before ``offset``: the log then starts there, as if they
    had expired under retention. Returns the new log start offset."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        low_watermarks = await admin.delete_records({tp: RecordsToDelete(offset)})
    finally:
        await admin.close()
    return low_watermarks[tp]


async def commit_group_offset(
    bootstrap_servers: str, group_id: str, tp: TopicPartition, offset: int
) -> None:
    """Commit ``offset`` for ``group_id`` on ``tp``, as a member that stopped there would."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def committed_offset(bootstrap_servers: str, group_id: str, tp: TopicPartition) -> int | None:
    """The offset ``group_id`` has committed on ``tp``, if any."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return offsets[tp].offset if tp in offsets else None
