"""A broker outage is never mistaken for a refusal: no outbox row is set aside, even by a
relay that sets rows aside at the first refusal, and even for a topic its producer has never
asked Kafka about (whose metadata request times out as "unknown topic")."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from messaging_support import activity, count, write_to_outbox

from codeflow_infra.kafka import create_topics, start_broker, stop_broker
from codeflow_messaging import SessionFactory
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PENDING = "SELECT count(*) FROM outbox WHERE published_at IS NULL"


async def test_a_broker_outage_sets_no_row_aside(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    start_relay,
    caplog: pytest.LogCaptureFixture,
) -> None:
    start_relay(max_refusals=1, metadata_timeout_ms=3000)
    await write_to_outbox(sessions, [activity("user-0", 0)], topic=topic)

    async def none_pending() -> bool:
        return await count(sessions, PENDING) == 0

    await wait_until(none_pending, timeout=60, what="the first message before the outage")
    # Created after the producer fetched its metadata, which now tracks only ``topic``.
    unseen = f"test.unseen.{uuid.uuid4().hex[:12]}"
    await create_topics(kafka_bootstrap_servers, [unseen], partitions=3)

    if not await asyncio.to_thread(stop_broker):
        pytest.skip("Kafka is not run by the local launcher here, so this test can't stop it")
    try:
        caplog.set_level(logging.WARNING, logger="codeflow.outbox")
        # Rows for a topic the producer has no metadata for fail the round (a metadata wait
        # that gives up); rows for a known topic wait in the producer until Kafka is back.
        await write_to_outbox(
            sessions, [activity(f"user-{n % 4}", n) for n in range(1, 6)], topic=unseen
        )

        async def relay_failed() -> bool:
            return any("publishing failed" in r.getMessage() for r in caplog.records)

        await wait_until(relay_failed, timeout=90, what="the relay to report Kafka down")
        await write_to_outbox(
            sessions, [activity(f"user-{n % 4}", n) for n in range(6, 26)], topic=topic
        )
        assert await count(sessions, PENDING) == 25
    finally:
        await asyncio.to_thread(start_broker)

    await wait_until(none_pending, timeout=120, what="every message after Kafka returned")
    assert await count(sessions, "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL") == 0
    assert await count(sessions, "SELECT count(*) FROM outbox WHERE refusals > 0") == 0
    assert not [
        r for r in caplog.records if r.levelno >= logging.ERROR and "set aside" in r.getMessage()
    ]
