"""When Kafka refuses a dead letter: too large with its trace, or refused for good.

The dead-letter topic is created with a small ``max.message.bytes``, so the real broker
answers MESSAGE_TOO_LARGE, a refusal that no retry can change.
"""

from __future__ import annotations

import logging

import pytest
from aiokafka import TopicPartition
from messaging_support import ConsumerGroup, Poisoned, activity, effects, headers_of
from topic_admin import committed_offset, create_topic, set_topic_configs

from codeflow_messaging import dead_letters as dl
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def poison_behind_a_small_dead_letter_topic(group: ConsumerGroup, max_bytes: int) -> None:
    """Publish a message the handler always fails on, with a trace of several kilobytes, and
    one behind it; start the group, its dead-letter topic taking no more than ``max_bytes``."""
    await create_topic(
        group.bootstrap_servers, group.dlq, configs={"max.message.bytes": str(max_bytes)}
    )
    poison, behind = activity("user-p", 1), activity("user-p", 2)
    await group.publish([poison, behind])
    await group.start(handler=Poisoned(poison, depth=40).apply)


async def test_a_dead_letter_too_large_with_its_trace_is_sent_without_it(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    # Room for the record and its other headers, not for its trace.
    await poison_behind_a_small_dead_letter_topic(group, 2500)

    await group.caught_up("the consumer to dead-letter and move on", timeout=30)
    [dead] = await group.dead_letters()
    headers = headers_of(dead)
    assert dead.value == (await read_topic(group.bootstrap_servers, group.topic))[0].value
    assert dl.ERROR_TRACE not in headers
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")
    assert headers[dl.ERROR_MESSAGE] == "cannot apply this one"
    assert headers[dl.ORIGINAL_OFFSET] == "0"
    assert await group.applied() == [2]
    assert any(
        "without its error trace" in r.getMessage() and group.dlq in r.getMessage()
        for r in caplog.records
    )


async def test_a_dead_letter_kafka_refuses_for_good_is_not_lost_and_holds_its_partition_loudly(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    await poison_behind_a_small_dead_letter_topic(group, 64)

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
    for named in (group.dlq, f"{group.topic}[0]@0", "max.message.bytes"):
        assert named in report.getMessage()
    # Held, not lost: the record is handled again, nothing behind it overtook it, and the
    # group's offset did not move past it.
    assert await effects(group.sessions) == []
    held_at = await committed_offset(
        group.bootstrap_servers, group.group_id, TopicPartition(group.topic, 0)
    )
    assert held_at in (None, 0)

    await set_topic_configs(group.bootstrap_servers, group.dlq, {"max.message.bytes": "1048588"})

    await group.caught_up("the consumer to move on once Kafka accepts")
    [dead] = await group.dead_letters()
    assert headers_of(dead)[dl.ORIGINAL_OFFSET] == "0"
    assert await group.applied() == [2]
