"""How long a committed outbox row takes to reach a consumer: printed, never asserted on
(timings on a shared machine are findings, not pass/fail), for the relay woken by NOTIFY and
for a relay that polls every 100 ms as the services did before (ADR 0029).

Run with ``-s`` to see the figures."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import pytest
from messaging_support import activity, write_to_outbox

from codeflow_contracts import parse_envelope
from codeflow_messaging import OutboxRelay, SessionFactory
from codeflow_messaging.kafka import create_consumer
from codeflow_testing.kafka import partitions_of
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROWS = 200
PAUSE = 0.03
"""Seconds between commits: rows arrive one at a time, as at idle, not as a backlog."""

RELAYS = {
    "woken by NOTIFY, polling every 2 s": {"poll_interval": 2.0},
    "polling every 100 ms, no NOTIFY": {"poll_interval": 0.1, "listen": False},
}


@pytest.mark.parametrize("relay", list(RELAYS))
async def test_the_latency_from_commit_to_consumer_is_reported(
    relay: str,
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    start_relay: Callable[..., OutboxRelay],
) -> None:
    start_relay(**RELAYS[relay])
    received: dict[str, float] = {}
    consumer = create_consumer(kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    consumer.assign(await partitions_of(kafka_bootstrap_servers, topic))

    async def receive() -> None:
        async for record in consumer:
            received[str(parse_envelope(record.value).id)] = time.perf_counter()

    receiving = asyncio.create_task(receive())
    try:
        # One row first, so neither relay's figures include starting its producer.
        await asyncio.sleep(1.0)
        warm_up = activity("u0", -1)
        await write_to_outbox(sessions, [warm_up], topic=topic)

        async def warm() -> bool:
            return str(warm_up.id) in received

        await wait_until(warm, timeout=30, what="the first row to reach the consumer")
        committed: dict[str, float] = {}
        for n in range(ROWS):
            message = activity(f"u{n % 10}", n)
            await write_to_outbox(sessions, [message], topic=topic)
            committed[str(message.id)] = time.perf_counter()
            await asyncio.sleep(PAUSE)

        async def all_received() -> bool:
            return committed.keys() <= received.keys()

        await wait_until(all_received, timeout=30, what="every row to reach the consumer")
    finally:
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        await consumer.stop()

    latencies = sorted((received[id_] - at) * 1000 for id_, at in committed.items())
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"\ncommit -> consumer, {relay}, {ROWS} rows one at a time: "
        f"p50 {cuts[49]:.1f} ms, p90 {cuts[89]:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {latencies[-1]:.1f} ms"
    )
