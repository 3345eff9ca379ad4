"""The migrations build exactly the schema the models describe, undo it, and keep a user to
one deletion in flight.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from codeflow_messaging import SessionFactory
from codeflow_testing.databases import check_migrations_round_trip, public_tables

pytestmark = pytest.mark.integration

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
INSERT = text(
    "INSERT INTO deletions (deletion_id, user_id, reason, requested_at, last_sent_at, "
    "completed_at) VALUES (:id, :user_id, :reason, now(), now(), :completed_at)"
)


async def test_the_migrations_match_the_models_and_downgrade_cleanly(
    janitor_database_url: str,
) -> None:
    assert await public_tables(janitor_database_url) == {
        "alembic_version",
        "deletions",
        "outbox",
        "processed_events",
        "user_activity",
    }
    await check_migrations_round_trip(ALEMBIC_INI, janitor_database_url)


async def test_a_user_has_at_most_one_deletion_in_flight(
    janitor_sessions: SessionFactory,
) -> None:
    done = {"reason": "inactive", "completed_at": datetime.now(UTC)}
    pending = {"reason": "requested", "completed_at": None}
    async with janitor_sessions() as session, session.begin():
        for row in (done, done, pending):
            await session.execute(INSERT, {"id": uuid.uuid4(), "user_id": "u1", **row})

    with pytest.raises(IntegrityError, match="ux_deletions_pending_user"):
        async with janitor_sessions() as session, session.begin():
            await session.execute(INSERT, {"id": uuid.uuid4(), "user_id": "u1", **pending})
    with pytest.raises(IntegrityError, match="ck_deletions_reason"):
        async with janitor_sessions() as session, session.begin():
            await session.execute(
                INSERT,
                {"id": uuid.uuid4(), "user_id": "u2", "reason": "bored", "completed_at": None},
            )
