"""A record Kafka always refuses is set aside after a bounded number of refusals, without
holding back anyone else; its own key's later messages wait behind it, in order, until an
operator retries it (``python -m codeflow_messaging outbox retry``) or discards it.

The refused record is a message larger than its topic's ``max.message.bytes``, on a topic
made small for the test, with one partition, so every other key shares its partition.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from messaging_support import activity, count, wait_drained, write_oversized, write_to_outbox
from sqlalchemy import text

from codeflow_contracts import Envelope, parse_envelope
from codeflow_messaging import SessionFactory
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# Above a round's ten ordinary messages (BATCH_SIZE) together, so their batch always fits,
# whatever the producer's batch limit (512 KiB, ADR 0048); far below the refused message.
SMALL_LIMIT = 50_000
REFUSED_SIZE = 100_000
HELD = 25  # the refused key's later messages: more than a claim (batch_size=10) holds
BATCH_SIZE = 10
MAX_REFUSALS = 5  # the relay's default


@pytest.fixture
async def small_topic(kafka_bootstrap_servers: str) -> str:
    """A one-partition topic that refuses messages above ``SMALL_LIMIT`` bytes."""
    name = f"test.small.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, 1, 1, topic_configs={"max.message.bytes": str(SMALL_LIMIT)})]
        )
    finally:
        await admin.close()
    return name


async def test_a_refused_record_is_set_aside_and_other_keys_on_its_partition_go_out_meanwhile(
    sessions: SessionFactory,
    small_topic: str,
    kafka_bootstrap_servers: str,
    start_relay,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.outbox")
    before = [activity("fine-0", 0)]
    await write_to_outbox(sessions, before, topic=small_topic)
    refused = await _write_too_large(sessions, small_topic, "refused", 1)
    held = [activity("refused", 2 + n) for n in range(HELD)]
    others = [activity(f"fine-{n}", 100 + n) for n in range(1, 6)]
    await write_to_outbox(sessions, held + others, topic=small_topic)

    start_relay(batch_size=BATCH_SIZE)

    async def others_published() -> bool:
        published = await _published_ids(kafka_bootstrap_servers, small_topic)
        return published == [str(e.id) for e in before + others]

    await wait_until(others_published, timeout=60, what="the other keys' messages on Kafka")
    await wait_until(
        lambda: _set_aside(sessions, refused.row), timeout=60, what="the refused row set aside"
    )

    row = await _row(sessions, refused.row)
    assert row["refusals"] == MAX_REFUSALS
    assert "MessageSizeTooLarge" in row["last_error"]
    # The other keys went out while the refused row was still being tried, not after.
    last_other = await _scalar(
        sessions,
        "SELECT max(published_at) FROM outbox WHERE key LIKE 'fine-%'",
    )
    assert last_other < row["set_aside_at"]
    # The refused key's later messages are still pending, in order, none of them on Kafka.
    assert await _pending_ids_of(sessions, "refused") == [str(refused.id)] + [
        str(e.id) for e in held
    ]
    assert await _published_ids(kafka_bootstrap_servers, small_topic) == [
        str(e.id) for e in before + others
    ]

    set_aside_logs = [
        r for r in caplog.records if r.levelno == logging.ERROR and "set aside" in r.getMessage()
    ]
    assert len(set_aside_logs) == 1
    message = set_aside_logs[0].getMessage()
    for detail in (
        f"row {refused.row}",
        str(refused.id),
        "codeflow.user.active.v1",
        "'refused'",
        small_topic,
        "MessageSizeTooLarge",
        "outbox retry",
        "outbox discard",
    ):
        assert detail in message
    # A refusal is not an outage: no backoff, and the producer started once, never replaced.
    assert not [r for r in caplog.records if "publishing failed" in r.getMessage()]
    assert [r.getMessage() for r in caplog.records].count("outbox relay: connected to Kafka") == 1


async def test_retrying_a_set_aside_row_once_kafka_accepts_it_publishes_its_key_in_order(
    sessions: SessionFactory,
    small_topic: str,
    kafka_bootstrap_servers: str,
    database_url: str,
    start_relay,
) -> None:
    refused, held = await _set_aside_with_its_key_held(sessions, small_topic, start_relay)

    listed = await _outbox_command("list", "--database-url", database_url)
    assert listed.returncode == 0, listed.stderr
    assert str(refused.row) in listed.stdout
    assert "MessageSizeTooLarge" in listed.stdout

    await _raise_limit(kafka_bootstrap_servers, small_topic, REFUSED_SIZE * 2)
    retried = await _outbox_command("retry", "--database-url", database_url, str(refused.row))
    assert retried.returncode == 0, retried.stderr

    await wait_drained(sessions, "the refused key's messages published")
    assert await _published_ids(kafka_bootstrap_servers, small_topic) == [str(refused.id)] + [
        str(e.id) for e in held
    ]
    assert await count(sessions, "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL") == 0


async def test_discarding_a_set_aside_row_deletes_it_and_releases_its_keys_later_messages(
    sessions: SessionFactory,
    small_topic: str,
    kafka_bootstrap_servers: str,
    database_url: str,
    start_relay,
) -> None:
    refused, held = await _set_aside_with_its_key_held(sessions, small_topic, start_relay)

    discarded = await _outbox_command("discard", "--database-url", database_url, "--all")
    assert discarded.returncode == 0, discarded.stderr
    assert str(refused.row) in discarded.stdout
    assert str(refused.id) in discarded.stdout

    await wait_drained(sessions, "the later messages published")
    assert await _published_ids(kafka_bootstrap_servers, small_topic) == [str(e.id) for e in held]
    assert (
        await _scalar(sessions, "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL") == 0
    )
    assert (await _row_or_none(sessions, refused.row)) is None


async def test_the_outbox_command_changes_nothing_when_a_row_is_not_set_aside(
    sessions: SessionFactory, small_topic: str, database_url: str
) -> None:
    await write_to_outbox(sessions, [activity("pending", 1)], topic=small_topic)
    pending_row = await _scalar(sessions, "SELECT max(id) FROM outbox")

    for command in ("retry", "discard"):
        result = await _outbox_command(command, "--database-url", database_url, str(pending_row))
        assert result.returncode == 1
        assert f"{pending_row}" in result.stderr
    assert await count(sessions, "SELECT count(*) FROM outbox") == 1
    listed = await _outbox_command("list", "--database-url", database_url)
    assert listed.returncode == 0
    assert "no outbox row is set aside" in listed.stdout


class _Refused:
    def __init__(self, row: int, envelope: Envelope[Any]) -> None:
        self.row = row
        self.id = envelope.id


async def _write_too_large(sessions: SessionFactory, topic: str, key: str, n: int) -> _Refused:
    envelope = activity(key, n)
    row = await write_oversized(sessions, envelope, topic=topic, padding=REFUSED_SIZE)
    return _Refused(row, envelope)


async def _set_aside_with_its_key_held(
    sessions: SessionFactory, topic: str, start_relay: Callable[..., object]
) -> tuple[_Refused, list[Envelope[Any]]]:
    """A row Kafka refuses, then HELD later messages of its key; a relay runs until the row is
    set aside, the later messages held behind it."""
    refused = await _write_too_large(sessions, topic, "refused", 1)
    held = [activity("refused", 2 + n) for n in range(HELD)]
    await write_to_outbox(sessions, held, topic=topic)
    start_relay(batch_size=BATCH_SIZE)
    await wait_until(
        lambda: _set_aside(sessions, refused.row), timeout=60, what="the refused row set aside"
    )
    return refused, held


async def _published_ids(bootstrap_servers: str, topic: str) -> list[str]:
    """The ids of the messages on ``topic`` in offset order (it has one partition)."""
    records = await read_topic(bootstrap_servers, topic)
    return [str(parse_envelope(r.value).id) for r in sorted(records, key=lambda r: r.offset)]


async def _pending_ids_of(sessions: SessionFactory, key: str) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT message_id::text FROM outbox"
                " WHERE key = :key AND published_at IS NULL ORDER BY id"
            ),
            {"key": key},
        )
        return [row[0] for row in rows]


async def _set_aside(sessions: SessionFactory, row: int) -> bool:
    found = await _row_or_none(sessions, row)
    return found is not None and found["set_aside_at"] is not None


async def _row_or_none(sessions: SessionFactory, row: int) -> dict[str, Any] | None:
    async with sessions() as session:
        result = await session.execute(text("SELECT * FROM outbox WHERE id = :id"), {"id": row})
        found = result.mappings().one_or_none()
        return None if found is None else dict(found)


async def _row(sessions: SessionFactory, row: int) -> dict[str, Any]:
    found = await _row_or_none(sessions, row)
    assert found is not None
    return found


async def _scalar(sessions: SessionFactory, sql: str) -> Any:
    async with sessions() as session:
        return await session.scalar(text(sql))


async def _raise_limit(bootstrap_servers: str, topic: str, limit: int) -> None:
    """Raise the topic's ``max.message.bytes`` and wait until the broker reports it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": str(limit)})]
        )

        async def applied() -> bool:
            [response] = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, None)]
            )
            [(_, _, _, _, entries)] = response.resources
            values = {entry[0]: entry[1] for entry in entries}
            return values.get("max.message.bytes") == str(limit)

        await wait_until(applied, timeout=30, what="the topic's new max.message.bytes")
    finally:
        await admin.close()


async def _outbox_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codeflow_messaging outbox ARGS`` as an operator would."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "codeflow_messaging", "outbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_message_for_a_topic_that_does_not_exist_is_set_aside_and_others_go_out(
    sessions: SessionFactory, topic: str, kafka_bootstrap_servers: str, start_relay
) -> None:
    # An invalid name: no broker creates it, whatever its auto-creation setting.
    nowhere = [activity("lost", 1), activity("lost", 2)]
    await write_to_outbox(sessions, nowhere, topic="test.no such topic!")
    elsewhere = [activity("found", 3)]
    await write_to_outbox(sessions, elsewhere, topic=topic)

    start_relay(max_refusals=1, metadata_timeout_ms=3000)

    async def first_set_aside() -> bool:
        query = "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL"
        return await count(sessions, query) == 1

    # The producer waits for the topic's metadata for its request timeout (here 3 s) first.
    await wait_until(first_set_aside, timeout=60, what="the first message set aside")
    await wait_until(
        lambda: _none_pending_on(sessions, topic), timeout=30, what="the other topic's message"
    )
    first = await _row(sessions, await _scalar(sessions, "SELECT min(id) FROM outbox"))
    assert first["message_id"] == nowhere[0].id
    assert "does not exist" in first["last_error"]
    assert await _pending_ids_of(sessions, "lost") == [str(e.id) for e in nowhere]
    published = await read_topic(kafka_bootstrap_servers, topic)
    assert [parse_envelope(r.value).id for r in published] == [elsewhere[0].id]


async def _none_pending_on(sessions: SessionFactory, topic: str) -> bool:
    async with sessions() as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE topic = :topic AND published_at IS NULL"),
            {"topic": topic},
        )
    return pending == 0
