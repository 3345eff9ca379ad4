from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from messaging_support import (
    ConsumerGroup,
    activity,
    count,
    effects,
    pending,
    sequence_number,
    wait_drained,
    write_to_outbox,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlalchemy import text

from codeflow_contracts import Envelope, parse_envelope
from codeflow_messaging import (
    OutboxRelay,
    SessionFactory,
    add_all_to_outbox,
    add_to_outbox,
    transaction,
)
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Rollback(Exception):
    pass


async def test_a_committed_message_takes_effect_once_and_a_rolled_back_one_is_never_published(
    group: ConsumerGroup,
    start_relay,
) -> None:
    rolled_back, committed = activity("user-a", 1), activity("user-a", 2)
    with pytest.raises(Rollback):
        await _write_then_fail(group.sessions, rolled_back, group.topic)
    await write_to_outbox(group.sessions, [committed], topic=group.topic)

    start_relay()
    await group.start()

    async def handled() -> bool:
        return len(await effects(group.sessions)) >= 1

    await wait_until(handled, timeout=60, what="the committed message to take effect")
    await wait_drained(group.sessions, "the outbox row to be marked published", timeout=30)
    published = [
        parse_envelope(r.value).id for r in await read_topic(group.bootstrap_servers, group.topic)
    ]
    assert published == [committed.id]
    assert await effects(group.sessions) == [(str(committed.id), "user-a", 2)]
    assert await count(group.sessions, "SELECT count(*) FROM processed_events") == 1


async def test_two_relays_never_publish_the_same_row_and_keep_each_keys_order(
    sessions: SessionFactory, topic: str, kafka_bootstrap_servers: str, start_relay
) -> None:
    users = [f"user-{i}" for i in range(6)]
    envelopes = [activity(users[n % len(users)], n) for n in range(600)]
    async with transaction(sessions) as session:
        for envelope in envelopes:
            await add_to_outbox(session, envelope, topic=topic)

    start_relay(batch_size=40)
    start_relay(batch_size=40)
    await wait_drained(sessions, timeout=90)

    records = await read_topic(kafka_bootstrap_servers, topic)
    ids = [parse_envelope(r.value).id for r in records]
    assert len(ids) == len(set(ids)) == len(envelopes)
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for record in records:
        envelope = parse_envelope(record.value)
        by_key[envelope.subject].append((record.offset, sequence_number(envelope.data.active_at)))
    for user, seen in by_key.items():
        in_offset_order = [n for _, n in sorted(seen)]
        assert in_offset_order == sorted(in_offset_order), f"{user}'s messages out of order"


async def _write_then_fail(sessions: SessionFactory, envelope: Envelope[Any], topic: str) -> None:
    async with transaction(sessions) as session:
        await add_to_outbox(session, envelope, topic=topic)
        raise Rollback


async def test_published_rows_are_purged_after_the_retention_period_and_pending_ones_kept(
    sessions: SessionFactory, topic: str
) -> None:
    await write_to_outbox(sessions, [activity("user-r", n) for n in range(3)], topic=topic)
    async with transaction(sessions) as session:
        await session.execute(
            text(
                "UPDATE outbox SET published_at = now() - interval '2 days' "
                "WHERE id = (SELECT min(id) FROM outbox)"
            )
        )
        await session.execute(
            text(
                "UPDATE outbox SET published_at = now() - interval '1 hour' "
                "WHERE id = (SELECT max(id) FROM outbox)"
            )
        )
    relay = OutboxRelay(sessions, _no_producer, retention=timedelta(days=1))

    assert await relay.purge_published() == 1
    assert await count(sessions, "SELECT count(*) FROM outbox") == 2
    assert await pending(sessions) == 1


def _no_producer() -> AIOKafkaProducer:
    raise AssertionError("purging must not touch Kafka")


async def test_many_messages_queued_at_once_are_the_rows_queueing_each_would_write(
    sessions: SessionFactory,
) -> None:
    envelopes = [activity(f"user-{n % 3}", n) for n in range(7)]
    async with transaction(sessions) as session:
        for envelope in envelopes:
            await add_to_outbox(session, envelope)
    one_by_one = await _outbox_rows(sessions)
    async with transaction(sessions) as session:
        await session.execute(text("DELETE FROM outbox"))
        await add_all_to_outbox(session, envelopes)
        await add_all_to_outbox(session, [])  # nothing to queue: no statement, no error

    assert await _outbox_rows(sessions) == one_by_one
    assert [row[0] for row in one_by_one] == [str(e.id) for e in envelopes]


async def _outbox_rows(sessions: SessionFactory) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT message_id::text, topic, key, message_type, payload FROM outbox "
                "WHERE published_at IS NULL ORDER BY id"
            )
        )
        return [tuple(row) for row in rows]


async def test_a_message_written_in_a_trace_is_published_with_its_traceparent_header(
    sessions: SessionFactory, topic: str, kafka_bootstrap_servers: str, start_relay
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    caller = SpanContext(
        0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, True, TraceFlags(1)
    )
    traced, untraced = activity("user-t", 1), activity("user-t", 2)
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(caller)))
    try:
        async with transaction(sessions) as session:
            await add_to_outbox(session, traced, topic=topic)
    finally:
        otel_context.detach(token)
    async with transaction(sessions) as session:
        await add_to_outbox(session, untraced, topic=topic)

    start_relay()
    await wait_drained(sessions, timeout=30)

    records = await read_topic(kafka_bootstrap_servers, topic)
    headers = {parse_envelope(r.value).id: dict(r.headers) for r in records}
    assert headers[traced.id]["traceparent"] == traceparent.encode()
    assert parse_envelope(records[0].value).traceparent == traceparent
    assert "traceparent" not in headers[untraced.id]
    assert headers[untraced.id]["content-type"] == b"application/cloudevents+json"
