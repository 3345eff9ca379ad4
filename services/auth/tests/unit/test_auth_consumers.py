"""Auth's consumer of the janitor's commands, built without starting anything."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from codeflow_auth.consumers import consumers
from codeflow_auth.deletion import ActivityEvidence


def test_the_command_consumer_takes_a_sweeps_backlog_500_commands_at_a_time() -> None:
    evidence = ActivityEvidence(activity_interval=timedelta(hours=1))
    built = consumers(async_sessionmaker(), evidence=evidence)
    assert [consumer.max_batch for consumer in built] == [500]
