"""The relay's claim costs what the rows it claims cost, whatever plan it runs.

The claim runs as a prepared statement on pooled connections. After a few executions
PostgreSQL may keep a generic plan for it, made from the statistics of the moment: an outbox
analyzed empty makes nested loops look cheapest. A claim that joined its parts by such a plan
cost time in the square of the pending rows once a burst arrived (a sweep's commands, a run's
acknowledgements): a relay that had polled an empty outbox took tens of seconds per claim of
10,000 pending rows (ADR 0032). The claim is written so that no plan can (ADR 0037), and
runs whatever plan PostgreSQL chooses (ADR 0046).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from messaging_support import wait_drained
from sqlalchemy import text

from codeflow_messaging import (
    OutboxRelay,
    SessionFactory,
    create_producer,
    transaction,
)
from codeflow_messaging.relay import _CLAIM
from codeflow_messaging.testing import sessions_on

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

BACKLOG = 8000
"""Pending rows of distinct keys. Drained through a generic plan made for an empty outbox,
their claims take 15-40 s; planned for what they are, well under 1 s."""

POLL_INTERVAL = 0.05
POLLS = 20
"""Claims of the empty outbox before the burst: enough for PostgreSQL to settle on a generic
plan (it weighs one after five custom ones)."""


CLAIMED = 1000
"""Rows a claim takes: the relay's batch."""

_INSERT_BACKLOG = text(
    "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
    "SELECT gen_random_uuid(), :topic, 'user-' || u, 'codeflow.test.v1', "
    "jsonb_build_object('n', u) FROM generate_series(1, :rows) AS u"
)


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
            await session.execute(_INSERT_BACKLOG, {"topic": topic, "rows": BACKLOG})
        began = time.perf_counter()
        await wait_drained(sessions, f"{BACKLOG} rows to be published", timeout=200)
        took = time.perf_counter() - began
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    # Publishing 8,000 small records takes a few seconds here, most of it Kafka's.
    assert took < 10, f"draining {BACKLOG} rows took {took:.1f} s"


def _rows_handled(node: dict[str, Any]) -> int:
    """Rows a plan node and those below it produced or looked at and dropped, over all their
    loops: the work of a plan, as no clock measures it on a shared machine."""
    loops = node.get("Actual Loops", 1)
    here = (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Join Filter", 0)
    ) * loops
    return int(here) + sum(_rows_handled(child) for child in node.get("Plans", []))


# The claim is a prepared statement: its first five executions on a connection are planned
# for their parameters, later ones may run a generic plan that PostgreSQL kept.
_PLANS = ["force_custom_plan", "force_generic_plan"]


@pytest.mark.parametrize("plan", _PLANS, ids=["custom-plan", "generic-plan"])
@pytest.mark.parametrize("in_flight", [False, True], ids=["alone", "beside-a-round-in-flight"])
async def test_a_claim_handles_each_pending_row_a_bounded_number_of_times_whatever_the_statistics(
    sessions: SessionFactory, database_url: str, topic: str, in_flight: bool, plan: str
) -> None:
    # The statistics of an outbox at rest: rows published, none pending. A burst arrives
    # before autovacuum looks again (here, never). A plan that trusts them compares every
    # claimed row with every pending one: 10^7 rows for 1,000 of 10,000.
    async with transaction(sessions) as session:
        await session.execute(text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
        await session.execute(_INSERT_BACKLOG, {"topic": topic, "rows": 20 * CLAIMED})
        await session.execute(text("UPDATE outbox SET published_at = now()"))
    async with transaction(sessions) as session:
        await session.execute(text("ANALYZE outbox"))
    async with transaction(sessions) as session:
        await session.execute(_INSERT_BACKLOG, {"topic": topic, "rows": 10 * CLAIMED})

    async with (
        sessions_on(database_url, pool_size=1) as other_relay,
        transaction(other_relay) as round_in_flight,
    ):
        if in_flight:  # its rows are skipped, and checked against this claim's keys
            await round_in_flight.execute(
                text(
                    "SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id "
                    "LIMIT :limit FOR UPDATE"
                ),
                {"limit": CLAIMED},
            )
        async with transaction(sessions) as session:
            connection = await session.connection()
            claim = _CLAIM.text.replace(":limit", "$1")
            await connection.exec_driver_sql(f"PREPARE claim (integer) AS {claim}")
            await connection.exec_driver_sql(f"SET LOCAL plan_cache_mode = {plan}")
            explained = await connection.scalar(
                text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE claim({CLAIMED})")
            )
            await connection.exec_driver_sql("DEALLOCATE claim")
    explained_plan: dict[str, Any] = explained[0]["Plan"]

    buffers = explained_plan["Shared Hit Blocks"] + explained_plan["Shared Read Blocks"]
    assert buffers < 10 * CLAIMED, f"the claim read {buffers} buffers for {CLAIMED} rows"
    rows = _rows_handled(explained_plan)
    assert rows < 50 * CLAIMED, f"the claim handled {rows} rows to take {CLAIMED}"
