"""An identity update costs the consumer a round trip to PostgreSQL per statement, each
waiting for the one before: what needs no answer in between shares a statement (ADR 0046)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from profiles_support import created, identity_of, updated
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles import service

pytestmark = pytest.mark.integration


@contextmanager
def statements_of(sessions: SessionFactory) -> Iterator[list[str]]:
    """The first words of every statement ``sessions``' engine sends meanwhile."""
    engine: AsyncEngine = sessions.kw["bind"]
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split()[:2]))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_a_rename_to_a_new_login_is_four_statements(
    profiles_sessions: SessionFactory,
) -> None:
    user = f"u{uuid.uuid4().hex[:20]}"
    async with transaction(profiles_sessions) as s:
        await service.record_identity(s, identity_of(created(user, 404, f"a{user}", 1)))

    with statements_of(profiles_sessions) as sent:
        async with transaction(profiles_sessions) as s:
            await service.record_identity(s, identity_of(updated(user, 404, f"b{user}", 2)))

    # The user's lock; whether they were erased, with the new login's first claim; their
    # profile's lock, with that of the profile holding their GitHub account; the update.
    assert sent == [
        "SELECT count(pg_advisory_xact_lock($1,",
        "WITH erased",
        "SELECT user_profiles.user_id,",
        "UPDATE user_profiles",
    ], sent
