"""A consumer group whose position expired under retention says so, loudly.

Retention is played deterministically: the admin client deletes the records at the head of
the partition (``delete_records``), which moves its log start offset exactly as expiry does.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
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
from topic_admin import commit_group_offset, delete_records_before

from codeflow_contracts import Envelope, UserActive
from codeflow_messaging import SessionFactory
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LOST = re.compile(r"(\d+) message\(s\) expired")


def _gap_reports(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "codeflow.consumer" and "lost to retention" in r.getMessage()
    ]


async def test_a_group_whose_committed_offset_expired_reports_the_gap_when_it_is_assigned(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.consumer")
    tp = TopicPartition(topic, 0)
    await publish_in_order(
        kafka_bootstrap_servers, topic, [activity("user-r", n) for n in range(10)]
    )
    # The group read three records, then was away while the next four expired.
    await commit_group_offset(kafka_bootstrap_servers, group_id, tp, 3)
    assert await delete_records_before(kafka_bootstrap_servers, tp, 7) == 7

    await start_consumers(effect_consumer(sessions, topic, group_id))

    await wait_caught_up("the consumer to read what is left")
    reports = _gap_reports(caplog)
    assert [r.levelname for r in reports] == ["ERROR"]
    message = reports[0].getMessage()
    for named in (
        group_id,
        f"{topic}[0]",
        "committed offset is 3",
        "log now starts at 7",
        "4 message(s) expired",
        "rebuilt from the owning service",
        "section 'Rebuilding'",
    ):
        assert named in message
    assert [n for _, _, n in await effects(sessions)] == [7, 8, 9]


async def test_a_position_that_expires_while_the_group_reads_is_reported_when_it_jumps(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.consumer")
    tp = TopicPartition(topic, 0)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_first_batch(
        session: AsyncSession, envelopes: Sequence[Envelope[Any]]
    ) -> None:
        if not holding.is_set():
            holding.set()
            await release.wait()
        for envelope in envelopes:
            await record_effect(session, envelope)

    await publish_in_order(
        kafka_bootstrap_servers, topic, [activity("user-r", n) for n in range(10)]
    )
    await start_consumers(
        effect_consumer(
            sessions,
            topic,
            group_id,
            max_batch=5,
            batch_handlers={UserActive: hold_the_first_batch},
        )
    )
    try:

        async def held() -> bool:
            return holding.is_set()

        await wait_until(held, timeout=60, what="the consumer to hold its first batch")
        # While the group is busy, more arrives, and retention deletes past its position.
        await publish_in_order(
            kafka_bootstrap_servers, topic, [activity("user-r", n) for n in range(10, 30)]
        )
        assert await delete_records_before(kafka_bootstrap_servers, tp, 25) == 25
    finally:
        release.set()

    await wait_caught_up("the consumer to read what is left")
    reports = _gap_reports(caplog)
    assert [r.levelname for r in reports] == ["ERROR"]
    message = reports[0].getMessage()
    assert f"{topic}[0]" in message
    assert "log now starts at 25" in message
    match = LOST.search(message)
    assert match is not None
    lost = int(match.group(1))
    # Every record was either applied, in order, or reported lost: none went unaccounted.
    applied = [n for _, _, n in await effects(sessions)]
    assert applied == [*range(25 - lost), *range(25, 30)]
