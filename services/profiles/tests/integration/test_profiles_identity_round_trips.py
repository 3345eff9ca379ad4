"""An identity update costs the consumer a round trip to PostgreSQL per statement, each
waiting for the one before: what needs no answer in between shares a statement (ADR 0046)."""

from __future__ import annotations

import uuid

import pytest
from profiles_support import created, identity_of, updated

from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles import service
from codeflow_testing.databases import statements_sent

pytestmark = pytest.mark.integration


async def test_a_rename_to_a_new_login_is_four_statements(
    profiles_sessions: SessionFactory,
) -> None:
    user = f"u{uuid.uuid4().hex[:20]}"
    async with transaction(profiles_sessions) as s:
        await service.record_identity(s, identity_of(created(user, 404, f"a{user}", 1)))

    with statements_sent(profiles_sessions.kw["bind"]) as sql:
        async with transaction(profiles_sessions) as s:
            await service.record_identity(s, identity_of(updated(user, 404, f"b{user}", 2)))
    sent = [" ".join(statement.split()[:2]) for statement in sql]

    # The user's lock; whether they were erased, with the new login's first claim; their
    # profile's lock, with that of the profile holding their GitHub account; the update.
    assert sent == [
        "SELECT count(pg_advisory_xact_lock($1,",
        "WITH erased",
        "SELECT user_profiles.user_id,",
        "UPDATE user_profiles",
    ], sent
