"""The relay's claim is planned for the backlog it finds, not for the outbox it polled.

The claim runs as a prepared statement on pooled connections. After a few executions
PostgreSQL may keep a generic plan for it, made from the statistics of the moment: an outbox
analyzed empty makes sequential scans look cheapest, and that plan costs time in the square of
the pending rows once a burst arrives (a sweep's commands, a run's acknowledgements). A relay
that had polled an empty outbox took tens of seconds per claim of 10,000 pending rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from messaging_support import wait_drained
from sqlalchemy import text

from codeflow_messaging import (
    OutboxRelay,
    SessionFactory,
    create_producer,
    transaction,
)
from codeflow_messaging.testing import sessions_on

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

BACKLOG = 8000
"""Pending rows of distinct keys. Drained through a generic plan made for an empty outbox,
their claims take 15-40 s; planned for what they are, well under 1 s."""

POLL_INTERVAL = 0.05
POLLS = 20
"""Claims of the empty outbox before the burst: enough for PostgreSQL to settle on a generic
plan (it weighs one after five custom ones)."""


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on a pool of one connection, so every claim reuses one prepared statement."""
    async with sessions_on(database_url, pool_size=1, max_overflow=0) as sessions:
        yield sessions


async def test_a_burst_after_polling_an_empty_outbox_is_claimed_as_fast_as_a_fresh_one(
    sessions: SessionFactory,
    one_connection: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
) -> None:
    async with transaction(sessions) as session:
        await session.execute(text("ANALYZE outbox"))
    relay = OutboxRelay(
        one_connection,
        lambda: create_producer(kafka_bootstrap_servers, client_id="messaging-tests"),
        rounds_in_flight=1,
        poll_interval=POLL_INTERVAL,
        listen=False,
    )
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(POLLS * POLL_INTERVAL)
        async with transaction(sessions) as session:
            await session.execute(
                text(
                    "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
                    "SELECT gen_random_uuid(), :topic, 'user-' || u, 'codeflow.test.v1', "
                    "jsonb_build_object('n', u) FROM generate_series(1, :rows) AS u"
                ),
                {"topic": topic, "rows": BACKLOG},
            )
        began = time.perf_counter()
        await wait_drained(sessions, f"{BACKLOG} rows to be published", timeout=200)
        took = time.perf_counter() - began
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    # Publishing 8,000 small records takes a few seconds here, most of it Kafka's.
    assert took < 10, f"draining {BACKLOG} rows took {took:.1f} s"
