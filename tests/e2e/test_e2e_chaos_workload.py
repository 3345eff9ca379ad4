"""The chaos workload on a real cluster with no fault: a handful of people do everything a
person can for 20 seconds, and once the system has settled the checker finds nothing wrong.

The janitor keeps the cluster's own inactivity threshold (days): people who go quiet for a
few seconds here are never swept, but they do go quiet and come back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest
from e2e_support import SERVICES, Cluster, eventually

from codeflow_chaos.checker import check
from codeflow_chaos.history import Operation, OperationKind, read_history
from codeflow_chaos.plans import Pace
from codeflow_chaos.reading import read_state
from codeflow_chaos.workload import run_workload

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SEED = 8
"""A seed whose plans sign out, delete accounts, go quiet and bulk-change several times
within the run's 20 seconds."""

PACE = Pace(think=(0.2, 1.0), away=(1.0, 3.0), start_within=2.0, quiet_share=0.03, quiet_for=3.0)


async def _settled(cluster: Cluster, history: list[Operation]) -> bool:
    """Every account deletion the people asked for is in the janitor's ledger and over, and
    no service has an event left to publish."""
    deleted = [op.user_id for op in history if op.kind == "delete_account" and op.status == 202]
    over = await cluster.count(
        "janitor",
        "SELECT count(*) FROM deletions WHERE user_id = ANY($1::text[])"
        " AND (completed_at IS NOT NULL OR cancelled_at IS NOT NULL)",
        deleted,
    )
    if over < len(set(deleted)):
        return False
    for service in SERVICES:
        if await cluster.count(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            return False
    return True


async def test_people_doing_everything_for_a_while_leave_a_history_the_checker_accepts(
    cluster: Cluster, tmp_path: Path
) -> None:
    path = tmp_path / "history.jsonl"
    summary = await run_workload(
        gateway_url=cluster.gateway_url,
        emulator_url=cluster.emulator_url,
        seed=SEED,
        people=8,
        duration=20,
        history=path,
        pace=PACE,
    )
    history = sorted(read_history(path), key=lambda op: op.seq)

    assert summary.operations == len(history)
    assert summary.seconds < 20 + 10 + 5  # the run, the grace, a margin
    assert len({op.seq for op in history}) == len(history)
    assert all(op.started.tzinfo is not None and op.started <= op.ended for op in history)
    assert {op.kind for op in history} == set(get_args(OperationKind)), summary.by_kind
    unanswered = [op for op in history if op.status is None or op.status >= 500]
    assert unanswered == [], unanswered
    signed_in = [op for op in history if op.kind == "sign_in" and op.succeeded]
    assert all(op.user_id for op in signed_in)
    assert any(op.kind == "monitor" and op.acknowledged_write for op in history)

    await eventually(lambda: _settled(cluster, history), timeout=120, what="the system to settle")
    state = await read_state(cluster.database_url, os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    assert check(history, state) == []
