"""The Kafka broker restarted while the outbox keeps receiving writes at a steady rate.

``test_kafka_outage`` writes only while the broker is down; here writes go on before, during
and after the restart, so the relay's rounds and the consumer's batches are in flight when
the broker goes away and when it comes back.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from messaging_support import ConsumerGroup, activity, effects, pending, users_out_of_order

from codeflow_infra import processes
from codeflow_infra.kafka import start_broker, stop_broker
from codeflow_infra.kafka_broker import LocalKafka
from codeflow_messaging import SessionFactory, add_to_outbox, transaction
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PER_SECOND = 20
USERS = 4


class SteadyWrites:
    """Commits one outbox write at a time, ``PER_SECOND`` a second, until stopped."""

    def __init__(self, sessions: SessionFactory, topic: str) -> None:
        self.sessions = sessions
        self.topic = topic
        self.written = 0
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not self.stopping.is_set():
            n = self.written
            await asyncio.sleep(max(0.0, started + n / PER_SECOND - loop.time()))
            async with transaction(self.sessions) as session:
                await add_to_outbox(session, activity(f"user-{n % USERS}", n), topic=self.topic)
            self.written = n + 1


def _stop(how: str) -> bool:
    """Stop the launcher's broker: cleanly (SIGTERM), or as a crash does (SIGKILL)."""
    if how == "SIGTERM":
        return stop_broker()
    broker = LocalKafka.from_local_dir()
    pid = broker.pid()
    if pid is None or not _serves_this_test(broker):
        return False
    os.kill(pid, signal.SIGKILL)
    assert processes.wait_for_exit(pid, 30)
    return True


def _serves_this_test(broker: LocalKafka) -> bool:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    return not bootstrap or bootstrap == broker.bootstrap_servers


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_a_broker_restart_under_steady_writes_loses_nothing_and_keeps_key_order(
    group: ConsumerGroup,
    how: str,
    start_relay,
) -> None:
    start_relay(ack_warning_interval=1.0)
    await group.start()
    writes = SteadyWrites(group.sessions, group.topic)
    writing = asyncio.create_task(writes.run())
    try:

        async def flowing() -> bool:
            return len(await group.applied()) >= 40

        await wait_until(flowing, timeout=60, what="40 messages before the restart")

        if not await asyncio.to_thread(_stop, how):
            pytest.skip("Kafka is not run by the local launcher here, so this test can't stop it")
        try:
            written_at_stop = writes.written

            async def writes_go_on() -> bool:
                return writes.written >= written_at_stop + 40

            await wait_until(writes_go_on, timeout=60, what="40 writes while Kafka is down")
        finally:
            await asyncio.to_thread(start_broker)
        written_at_start = writes.written

        async def writes_after_restart() -> bool:
            return writes.written >= written_at_start + 40

        await wait_until(writes_after_restart, timeout=60, what="40 writes after the restart")
    finally:
        writes.stopping.set()
        await writing

    async def all_applied() -> bool:
        return await pending(group.sessions) == 0 and len(await group.applied()) >= writes.written

    await wait_until(all_applied, timeout=120, what="every write to be published and applied")
    applied = await effects(group.sessions)
    numbers = sorted(n for _, _, n in applied)
    assert numbers == list(range(writes.written)), "a write was lost or applied twice"
    assert users_out_of_order(applied) == []
    assert await group.dead_letters() == []
