"""Which jumps in a partition's offsets are reported as messages lost to retention."""

from __future__ import annotations

import logging

import pytest
from aiokafka import TopicPartition

from codeflow_messaging.retention_gaps import RetentionGapWatch

TP = TopicPartition("auth.user-events", 0)


class _Consumer:
    """aiokafka's consumer as far as the watch uses it: committed offsets and log starts."""

    def __init__(self, *, committed: int | None, log_start: int) -> None:
        self._committed = committed
        self.log_start = log_start

    async def committed(self, tp: TopicPartition) -> int | None:
        return self._committed

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, self.log_start)


def _reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


@pytest.mark.parametrize(
    ("committed", "log_start", "batch_at"),
    [
        pytest.param(7, 7, None, id="a committed offset at or after the log start"),
        pytest.param(None, 7, 7, id="a new group with no committed offset"),
        # Offsets may skip without loss (a compacted topic); only the log start says records
        # expired before the group read them.
        pytest.param(3, 0, 5, id="a batch that skips records that still exist"),
    ],
)
async def test_no_gap_is_reported(
    caplog: pytest.LogCaptureFixture, committed: int | None, log_start: int, batch_at: int | None
) -> None:
    consumer = _Consumer(committed=committed, log_start=log_start)
    watch = RetentionGapWatch("profiles", lambda: consumer)
    await watch.on_partitions_assigned({TP})
    if batch_at is not None:
        await watch.check({TP: batch_at})
    assert _reports(caplog) == []


async def test_a_gap_is_reported_once_and_the_group_goes_on_from_the_log_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = _Consumer(committed=10, log_start=0)
    watch = RetentionGapWatch("profiles", lambda: consumer)
    await watch.on_partitions_assigned({TP})
    watch.handled({TP: 12})
    consumer.log_start = 20
    await watch.check({TP: 20})
    await watch.check({TP: 20})  # the same batch delivered again: nothing more was lost
    [report] = _reports(caplog)
    assert "next offset is 12 but the log now starts at 20" in report
    assert "8 message(s) expired" in report


async def test_a_revoked_partition_is_forgotten(caplog: pytest.LogCaptureFixture) -> None:
    consumer = _Consumer(committed=10, log_start=0)
    watch = RetentionGapWatch("profiles", lambda: consumer)
    await watch.on_partitions_assigned({TP})
    await watch.on_partitions_revoked({TP})
    consumer.log_start = 20
    await watch.check({TP: 20})
    assert _reports(caplog) == []
    assert watch.assignment == frozenset()
