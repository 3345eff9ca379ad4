"""When Kafka refuses a dead letter: too large with its trace, or refused for good.

The dead-letter topic is created with a small ``max.message.bytes``, so the real broker
answers MESSAGE_TOO_LARGE, a refusal that no retry can change.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiokafka import TopicPartition
from messaging_support import (
    activity,
    effect_consumer,
    effects,
    publish_in_order,
    record_effect,
)
from sqlalchemy.ext.asyncio import AsyncSession
from topic_admin import committed_offset, create_topic, set_topic_configs

from codeflow_contracts import Envelope
from codeflow_contracts.topics import dead_letter_topic
from codeflow_messaging import SessionFactory
from codeflow_messaging import dead_letters as dl
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class PoisonError(RuntimeError):
    pass


def _fail_deep_down(depth: int) -> None:
    """Raise from ``depth`` frames down: a trace of several kilobytes."""
    if depth == 0:
        raise PoisonError("cannot apply this one")
    _fail_deep_down(depth - 1)


def _failing_on(poison: Envelope[Any]) -> Any:
    async def handler(session: AsyncSession, envelope: Envelope[Any]) -> None:
        if envelope.id == poison.id:
            _fail_deep_down(40)
        await record_effect(session, envelope)

    return handler


async def test_a_dead_letter_too_large_with_its_trace_is_sent_without_it(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    dlq = dead_letter_topic(topic, group_id)
    # Room for the record and its other headers, not for a trace of several kilobytes.
    await create_topic(kafka_bootstrap_servers, dlq, configs={"max.message.bytes": "2500"})
    poison, behind = activity("user-p", 1), activity("user-p", 2)
    await publish_in_order(kafka_bootstrap_servers, topic, [poison, behind])
    await start_consumers(effect_consumer(sessions, topic, group_id, handler=_failing_on(poison)))

    await wait_caught_up("the consumer to dead-letter and move on", timeout=30)
    [dead] = await read_topic(kafka_bootstrap_servers, dlq)
    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == (await read_topic(kafka_bootstrap_servers, topic))[0].value
    assert dl.ERROR_TRACE not in headers
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")
    assert headers[dl.ERROR_MESSAGE] == "cannot apply this one"
    assert headers[dl.ORIGINAL_OFFSET] == "0"
    assert [n for _, _, n in await effects(sessions)] == [2]
    assert any(
        "without its error trace" in r.getMessage() and dlq in r.getMessage()
        for r in caplog.records
    )


async def test_a_dead_letter_kafka_refuses_for_good_is_not_lost_and_holds_its_partition_loudly(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    dlq = dead_letter_topic(topic, group_id)
    await create_topic(kafka_bootstrap_servers, dlq, configs={"max.message.bytes": "64"})
    poison, behind = activity("user-p", 1), activity("user-p", 2)
    await publish_in_order(kafka_bootstrap_servers, topic, [poison, behind])
    await start_consumers(effect_consumer(sessions, topic, group_id, handler=_failing_on(poison)))

    def refusals() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.levelno >= logging.ERROR and "could not be dead-lettered" in r.getMessage()
        ]

    async def refused_twice() -> bool:
        return len(refusals()) >= 2

    await wait_until(refused_twice, timeout=30, what="the consumer to report the refusal twice")
    report = refusals()[0]
    assert report.levelno == logging.CRITICAL
    for named in (dlq, f"{topic}[0]@0", "max.message.bytes"):
        assert named in report.getMessage()
    # Held, not lost: the record is handled again, nothing behind it overtook it, and the
    # group's offset did not move past it.
    assert await effects(sessions) == []
    held_at = await committed_offset(kafka_bootstrap_servers, group_id, TopicPartition(topic, 0))
    assert held_at in (None, 0)

    await set_topic_configs(kafka_bootstrap_servers, dlq, {"max.message.bytes": "1048588"})

    await wait_caught_up("the consumer to move on once Kafka accepts")
    [dead] = await read_topic(kafka_bootstrap_servers, dlq)
    assert {n: v.decode() for n, v in dead.headers}[dl.ORIGINAL_OFFSET] == "0"
    assert [n for _, _, n in await effects(sessions)] == [2]
