from __future__ import annotations

import asyncio
import logging

import pytest
from messaging_support import (
    activity,
    effect_consumer,
    effects,
    pending,
    users_out_of_order,
    write_to_outbox,
)

from codeflow_infra.kafka import start_broker, stop_broker
from codeflow_messaging import SessionFactory
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def test_outbox_writes_commit_while_kafka_is_down_and_arrive_in_key_order_when_it_returns(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    start_relay,
    start_consumers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    start_relay(ack_warning_interval=1.0)
    await start_consumers(effect_consumer(sessions, topic, group_id))
    await write_to_outbox(sessions, [activity("user-0", 0)], topic=topic)

    async def first_applied() -> bool:
        return len(await effects(sessions)) == 1

    await wait_until(first_applied, timeout=60, what="the first message before the outage")

    if not await asyncio.to_thread(stop_broker):
        pytest.skip("Kafka is not run by the local launcher here, so this test can't stop it")
    try:
        caplog.set_level(logging.WARNING, logger="codeflow.outbox")
        during = [activity(f"user-{n % 4}", n) for n in range(1, 61)]
        await write_to_outbox(sessions, during, topic=topic)
        assert await pending(sessions) == len(during)

        async def relay_noticed() -> bool:
            return any(r.name == "codeflow.outbox" for r in caplog.records)

        await wait_until(relay_noticed, timeout=60, what="the relay to report Kafka down")
        assert await pending(sessions) == len(during)
    finally:
        await asyncio.to_thread(start_broker)

    async def all_applied() -> bool:
        return len(await effects(sessions)) == 1 + len(during)

    await wait_until(all_applied, timeout=120, what="every message after Kafka returned")
    applied = await effects(sessions)
    assert users_out_of_order(applied) == []
    assert sorted(n for _, _, n in applied) == list(range(61))
