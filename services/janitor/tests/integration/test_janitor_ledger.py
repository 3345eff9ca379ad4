"""The ledger's set-based writes, on the real PostgreSQL: a sweep of many users issues each
deletion and command once within its limits, and acknowledgements recorded many at a time
(or concurrently) complete each deletion exactly once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from janitor_support import SERVICES, new_user_id
from sqlalchemy import func, insert, select

from codeflow_contracts import parse_envelope
from codeflow_contracts.deletions import DataHoldingService
from codeflow_janitor.db import Base
from codeflow_janitor.deletions.repository import Acknowledgement, RecordedAcknowledgements
from codeflow_janitor.deletions.service import record_acknowledgements
from codeflow_janitor.models import Deletion, UserActivity
from codeflow_janitor.sweeps.service import SweepPolicy, SweepReport, sweep_inactive_users
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
OUTBOX = Base.metadata.tables["outbox"]


async def known_users(sessions: SessionFactory, *, idle: int, active: int) -> list[str]:
    """``idle`` users last seen a year ago (the first the longest), ``active`` seen today;
    returns the idle ones, longest idle first."""
    idle_users = [new_user_id() for _ in range(idle)]
    rows = [
        {"user_id": u, "first_seen_at": NOW - timedelta(days=400), "last_active_at": seen}
        for u, seen in [
            *((u, NOW - timedelta(days=365, minutes=-i)) for i, u in enumerate(idle_users)),
            *((new_user_id(), NOW) for _ in range(active)),
        ]
    ]
    async with transaction(sessions) as session:
        await session.execute(insert(UserActivity), rows)
    return idle_users


async def sweep(
    sessions: SessionFactory, *, max_deletions: int = 1000, force: bool = False
) -> SweepReport:
    policy = SweepPolicy(
        inactive_after=timedelta(days=90), max_deletions=max_deletions, max_share=0.10
    )
    async with transaction(sessions) as session:
        return await sweep_inactive_users(session, policy, now=NOW, force=force)


async def ledger(sessions: SessionFactory) -> dict[str, Deletion]:
    async with sessions() as session:
        return {d.user_id: d for d in (await session.scalars(select(Deletion))).all()}


async def queued_commands(sessions: SessionFactory) -> list[tuple[str, uuid.UUID]]:
    """(user id, deletion id) of every command in the outbox, in outbox order."""
    async with sessions() as session:
        rows = (await session.execute(select(OUTBOX.c.key, OUTBOX.c.payload).order_by("id"))).all()
    commands = [(key, parse_envelope(json.dumps(payload).encode())) for key, payload in rows]
    return [(key, envelope.data.deletion_id) for key, envelope in commands]


async def test_a_sweep_of_many_users_issues_its_limit_longest_idle_first(
    janitor_sessions: SessionFactory,
) -> None:
    idle = await known_users(janitor_sessions, idle=250, active=2250)

    first = await sweep(janitor_sessions, max_deletions=200)
    second = await sweep(janitor_sessions, max_deletions=200)

    assert (first.outcome, first.candidates, first.issued, first.skipped) == (
        "issued",
        250,
        200,
        50,
    )
    assert (second.candidates, second.already_pending, second.issued) == (50, 200, 50)
    deletions = await ledger(janitor_sessions)
    assert set(deletions) == set(idle)
    assert {deletions[u].deletion_id for u in idle[:200]} == set(first.deletion_ids)
    assert {deletions[u].deletion_id for u in idle[200:]} == set(second.deletion_ids)
    assert {(d.reason, d.attempts, d.requested_at) for d in deletions.values()} == {
        ("inactive", 1, NOW)
    }
    # One command per deletion, carrying its id, keyed by its user.
    commands = await queued_commands(janitor_sessions)
    assert sorted(commands) == sorted((u, d.deletion_id) for u, d in deletions.items())


async def test_a_sweep_of_many_users_is_refused_beyond_the_share_and_writes_nothing(
    janitor_sessions: SessionFactory,
) -> None:
    await known_users(janitor_sessions, idle=301, active=2699)  # 10.03% inactive

    refused = await sweep(janitor_sessions)

    assert (refused.outcome, refused.candidates, refused.issued) == ("refused", 301, 0)
    assert refused.refusal is not None
    assert "301 of 3000 known users" in refused.refusal
    assert await ledger(janitor_sessions) == {}
    assert await queued_commands(janitor_sessions) == []

    forced = await sweep(janitor_sessions, max_deletions=300, force=True)

    assert (forced.outcome, forced.issued, forced.skipped) == ("issued", 300, 1)
    assert len(await queued_commands(janitor_sessions)) == 300


def acks(
    deletions: Sequence[Deletion],
    services: Sequence[DataHoldingService] = SERVICES,
    *,
    at: datetime = NOW,
) -> list[Acknowledgement]:
    """Each service's acknowledgement of each deletion, the i-th deleted i seconds after ``at``."""
    return [
        Acknowledgement(d.deletion_id, d.user_id, service, at + timedelta(seconds=i))
        for service in services
        for i, d in enumerate(deletions)
    ]


async def record(
    sessions: SessionFactory, acknowledgements: Sequence[Acknowledgement]
) -> list[RecordedAcknowledgements]:
    async with transaction(sessions) as session:
        return await record_acknowledgements(session, acknowledgements, now=datetime.now(UTC))


async def activity_left(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UserActivity)) or 0)


async def swept(sessions: SessionFactory, users: int) -> list[Deletion]:
    await known_users(sessions, idle=users, active=0)
    await sweep(sessions, force=True)
    return list((await ledger(sessions)).values())


async def test_acknowledgements_of_many_deletions_at_once_complete_each_exactly_once(
    janitor_sessions: SessionFactory,
) -> None:
    deletions = await swept(janitor_sessions, 100)
    stranger = Acknowledgement(uuid.uuid4(), new_user_id(), "auth", NOW)
    misaddressed = Acknowledgement(deletions[0].deletion_id, new_user_id(), "auth", NOW)

    # Every acknowledgement twice (the copy an hour later), with two that match no deletion.
    first, copies = acks(deletions), acks(deletions, at=NOW + timedelta(hours=1))
    recorded = await record(janitor_sessions, [*first, stranger, misaddressed, *copies])

    assert len(recorded) == 100
    assert all(r.completed_now for r in recorded)
    after = await ledger(janitor_sessions)
    for i, deletion in enumerate(deletions):
        done = after[deletion.user_id]
        assert done.completed_at is not None
        assert {done.acked_at(s) for s in SERVICES} == {NOW + timedelta(seconds=i)}
    assert await activity_left(janitor_sessions) == 0

    again = await record(janitor_sessions, acks(deletions))

    assert [r.completed_now for r in again] == [False] * 100
    assert {u: d.completed_at for u, d in (await ledger(janitor_sessions)).items()} == {
        u: d.completed_at for u, d in after.items()
    }


async def test_a_deletion_completes_with_the_round_that_brings_its_last_acknowledgement(
    janitor_sessions: SessionFactory,
) -> None:
    deletions = await swept(janitor_sessions, 20)

    partial = await record(janitor_sessions, acks(deletions, ["auth", "profiles"]))
    assert [r.completed_now for r in partial] == [False] * 20
    assert await activity_left(janitor_sessions) == 20
    pending = await ledger(janitor_sessions)
    assert {d.unacknowledged for d in pending.values()} == {("repositories",)}
    assert {d.completed_at for d in pending.values()} == {None}

    last = await record(janitor_sessions, acks(deletions, ["repositories", "auth"]))

    assert [r.completed_now for r in last] == [True] * 20
    assert await activity_left(janitor_sessions) == 0
    done = await ledger(janitor_sessions)
    # auth's second acknowledgement changed nothing.
    assert {u: d.auth_acked_at for u, d in done.items()} == {
        u: d.auth_acked_at for u, d in pending.items()
    }


async def test_concurrent_rounds_of_acknowledgements_complete_each_deletion_once(
    janitor_sessions: SessionFactory,
) -> None:
    deletions = await swept(janitor_sessions, 200)
    rounds = [acks(deletions, [service]) for service in SERVICES]

    results = await asyncio.gather(*(record(janitor_sessions, r) for r in rounds))

    completions = [r.deletion_id for result in results for r in result if r.completed_now]
    assert sorted(completions) == sorted(d.deletion_id for d in deletions)
    assert {d.completed_at is not None for d in (await ledger(janitor_sessions)).values()} == {True}
    assert await activity_left(janitor_sessions) == 0
