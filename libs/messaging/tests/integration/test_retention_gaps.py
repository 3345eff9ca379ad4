"""A consumer group whose position expired under retention says so, loudly.

Retention is played deterministically: the admin client deletes the records at the head of
the partition (``delete_records``), which moves its log start offset exactly as expiry does.
"""

from __future__ import annotations

import logging
import re

import pytest
from aiokafka import TopicPartition
from messaging_support import ConsumerGroup, FirstBatchHeld, activity
from topic_admin import commit_group_offset, delete_records_before

from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LOST = re.compile(r"(\d+) message\(s\) expired")


def the_gap_report(caplog: pytest.LogCaptureFixture) -> str:
    """The one report of a gap, an ERROR; what it says."""
    reports = [
        r
        for r in caplog.records
        if r.name == "codeflow.consumer" and "lost to retention" in r.getMessage()
    ]
    assert [r.levelname for r in reports] == ["ERROR"]
    return reports[0].getMessage()


async def test_a_group_whose_committed_offset_expired_reports_the_gap_when_it_is_assigned(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.consumer")
    tp = TopicPartition(group.topic, 0)
    await group.publish([activity("user-r", n) for n in range(10)])
    # The group read three records, then was away while the next four expired.
    await commit_group_offset(group.bootstrap_servers, group.group_id, tp, 3)
    assert await delete_records_before(group.bootstrap_servers, tp, 7) == 7

    await group.start()

    await group.caught_up("the consumer to read what is left")
    message = the_gap_report(caplog)
    for named in (
        group.group_id,
        f"{group.topic}[0]",
        "committed offset is 3",
        "log now starts at 7",
        "4 message(s) expired",
        "rebuilt from the owning service",
        "section 'Rebuilding'",
    ):
        assert named in message
    assert await group.applied() == [7, 8, 9]


async def test_a_position_that_expires_while_the_group_reads_is_reported_when_it_jumps(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.consumer")
    tp = TopicPartition(group.topic, 0)
    first_batch = FirstBatchHeld()
    await group.publish([activity("user-r", n) for n in range(10)])
    await group.start(max_batch=5, handler=first_batch.apply)
    try:
        await wait_until(
            first_batch.is_holding, timeout=60, what="the consumer to hold its first batch"
        )
        # While the group is busy, more arrives, and retention deletes past its position.
        await group.publish([activity("user-r", n) for n in range(10, 30)])
        assert await delete_records_before(group.bootstrap_servers, tp, 25) == 25
    finally:
        first_batch.release.set()

    await group.caught_up("the consumer to read what is left")
    message = the_gap_report(caplog)
    assert f"{group.topic}[0]" in message
    assert "log now starts at 25" in message
    match = LOST.search(message)
    assert match is not None
    lost = int(match.group(1))
    # Every record was either applied, in order, or reported lost: none went unaccounted.
    assert await group.applied() == [*range(25 - lost), *range(25, 30)]
