"""A PostgreSQL restart while messages stream in dead-letters nothing and loses nothing.

The consumer's database is a PostgreSQL server of the test's own (its own data directory
and port), started with the project's launcher code, so that stopping it for real disturbs
no other test. Messages are published straight to Kafka at a steady rate before, during and
after the outage.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from messaging_support import (
    activity,
    effect_consumer,
    effects,
    prepare_database,
    users_out_of_order,
)
from sqlalchemy import text

from codeflow_contracts import Envelope, UserActive, to_json_bytes
from codeflow_contracts.topics import dead_letter_topic
from codeflow_infra import processes
from codeflow_infra.config import HOST, InfraConfig
from codeflow_infra.postgres import create_database
from codeflow_infra.postgres_server import LocalPostgres
from codeflow_messaging import (
    Backoff,
    RetryPolicy,
    SessionFactory,
    create_producer,
    transaction,
)
from codeflow_messaging.testing import sessions_on
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# Ports of the test's own server: below 32768 (out of the range Linux hands out as the local
# ports of outgoing connections) and apart from the shared server's.
OWN_POSTGRES_PORTS = range(25433, 25500)
MESSAGES = 300
PER_SECOND = 25
USERS = 5
# Retries every 50-100 ms while the database is away, so the consumer meets every phase of
# the restart: shutting down, refused, starting up or recovering.
QUICK_OUTAGE_BACKOFF = Backoff(initial=0.05, maximum=0.1)
# A message is given up on within a tenth of a second, sooner than any phase of a restart
# ends: an outage error taken for the message's fault dead-letters it.
IMPATIENT_RETRIES = RetryPolicy(max_attempts=3, backoff=Backoff(initial=0.02, maximum=0.05))
# Rows written just before the stop: the shutdown checkpoint writes them out, or crash
# recovery replays their WAL, so the server takes a while to stop and to start, as one
# that has been working does.
BALLAST = (
    "CREATE TABLE ballast AS "
    "SELECT g AS n, repeat(md5(g::text), 16) AS filler FROM generate_series(1, 200000) AS g"
)


@pytest.fixture
async def own_postgres(tmp_path: Path) -> AsyncIterator[LocalPostgres]:
    port = next(p for p in OWN_POSTGRES_PORTS if not processes.port_accepts(HOST, p))
    server = LocalPostgres(
        InfraConfig(local_dir=tmp_path / "own-postgres", repo_root=None, postgres_port=port)
    )
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture
async def own_sessions(own_postgres: LocalPostgres) -> AsyncIterator[SessionFactory]:
    url = await create_database(own_postgres.url, f"restart_{uuid.uuid4().hex[:12]}")
    await prepare_database(url)
    # As the services have it: 20 kept connections, no overflow.
    async with sessions_on(url, pool_size=20, max_overflow=0) as sessions:
        yield sessions


class SteadyStream:
    """Publishes ``MESSAGES`` activities straight to Kafka, ``PER_SECOND`` of them a second."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.envelopes: list[Envelope[UserActive]] = [
            activity(f"user-{n % USERS}", n) for n in range(MESSAGES)
        ]
        self.published = 0

    async def run(self) -> None:
        producer = create_producer(self.bootstrap_servers, client_id="steady-stream")
        await producer.start()
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            for n, envelope in enumerate(self.envelopes):
                await asyncio.sleep(max(0.0, started + n / PER_SECOND - loop.time()))
                await producer.send_and_wait(
                    self.topic, to_json_bytes(envelope), key=envelope.kafka_key
                )
                self.published = n + 1
        finally:
            await producer.stop()


def _kill(server: LocalPostgres) -> None:
    """Stop the server the way a crash does: SIGKILL to the postmaster."""
    pid = server.pid()
    assert pid is not None, "the server under test is not running"
    os.kill(pid, signal.SIGKILL)
    assert processes.wait_for_exit(pid, 10)


@pytest.mark.parametrize("stop", ["fast shutdown", "SIGKILL"])
async def test_a_database_restart_while_messages_stream_dead_letters_nothing_and_applies_each_once(
    stop: str,
    own_postgres: LocalPostgres,
    own_sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.consumer")
    await start_consumers(
        effect_consumer(
            own_sessions,
            topic,
            group_id,
            retry=IMPATIENT_RETRIES,
            transient_backoff=QUICK_OUTAGE_BACKOFF,
        )
    )
    stream = SteadyStream(kafka_bootstrap_servers, topic)
    streaming = asyncio.create_task(stream.run())
    try:

        async def some_applied() -> bool:
            return len(await effects(own_sessions)) >= 50

        await wait_until(some_applied, timeout=60, what="50 messages before the restart")

        async with transaction(own_sessions) as session:
            await session.execute(text(BALLAST))
        published_at_stop = stream.published
        try:
            if stop == "SIGKILL":
                await asyncio.to_thread(_kill, own_postgres)
            else:
                assert await asyncio.to_thread(own_postgres.stop)

            async def outage_met_while_streaming() -> bool:
                met = any("database unavailable" in r.getMessage() for r in caplog.records)
                return met and stream.published >= published_at_stop + 50

            await wait_until(
                outage_met_while_streaming,
                timeout=60,
                what="the consumer to meet the outage while 50 more messages are published",
            )
        finally:
            await asyncio.to_thread(own_postgres.start)
        assert stream.published < MESSAGES, "the stream ended before the database came back"

        async def each_applied_or_dead_lettered() -> bool:
            given_up = sum("dead-lettered" in r.getMessage() for r in caplog.records)
            return streaming.done() and len(await effects(own_sessions)) + given_up >= MESSAGES

        await wait_until(
            each_applied_or_dead_lettered, timeout=120, what="every message after the restart"
        )
    finally:
        streaming.cancel()
        await asyncio.gather(streaming, return_exceptions=True)
    streaming.result()

    dead = await read_topic(kafka_bootstrap_servers, dead_letter_topic(topic, group_id))
    assert dead == [], f"{len(dead)} message(s) dead-lettered by a database restart"
    applied = await effects(own_sessions)
    assert sorted(m for m, _, _ in applied) == sorted(str(e.id) for e in stream.envelopes)
    assert users_out_of_order(applied) == []
