"""Restating users: ``python -m codeflow_auth restate-users`` queues what auth holds about
each user, so the projections other services keep can be rebuilt after they lost events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from codeflow_auth.restatement import restate_users
from codeflow_auth.signin import repository as signin_repository
from codeflow_contracts import parse_envelope
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.commands import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SEEN = datetime(2026, 11, 30, 8, tzinfo=UTC)


async def new_user(
    sessions: SessionFactory, login: str, github_id: int, *, linked: bool = True
) -> str:
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name=None, email=None, email_verified=None, image=None, login=login
        )
        await signin_repository.update_user(s, user.id, last_active_at=SEEN)
        if linked:
            await signin_repository.link_account(
                s,
                user_id=user.id,
                type="oauth",
                provider="github",
                provider_account_id=str(github_id),
            )
    return user.id


async def restatements(sessions: SessionFactory) -> list[tuple[str, str, object]]:
    """(topic, key, data) of every UserRestated in the outbox, in order."""
    async with sessions() as s:
        rows = await s.execute(
            text(
                "SELECT topic, key, payload FROM outbox "
                "WHERE message_type = 'codeflow.user.restated.v1' ORDER BY id"
            )
        )
        return [
            (topic, key, parse_envelope(json.dumps(payload).encode()).data)
            for topic, key, payload in rows
        ]


async def test_every_user_auth_holds_is_restated_on_their_own_partition(
    auth_sessions: SessionFactory,
) -> None:
    octocat = await new_user(auth_sessions, "octocat", 583231)
    hubot = await new_user(auth_sessions, "hubot", 480938)
    await new_user(auth_sessions, "leaving", 999, linked=False)  # asked to leave

    async with transaction(auth_sessions) as s:
        first = await restate_users(s, limit=1)
    async with transaction(auth_sessions) as s:
        rest = await restate_users(s, after=first[-1], limit=10)

    assert sorted(first + rest) == sorted([octocat, hubot])
    queued = await restatements(auth_sessions)
    assert [(topic, key) for topic, key, _ in queued] == [
        (USER_EVENTS, user_id) for user_id in first + rest
    ]
    by_user = {data.user_id: data for _, _, data in queued}  # type: ignore[attr-defined]
    assert (by_user[octocat].github_id, by_user[octocat].login) == (583231, "octocat")
    assert by_user[hubot].last_active_at == SEEN


async def test_the_command_restates_the_users_named(
    auth_sessions: SessionFactory, auth_database_url: str
) -> None:
    await new_user(auth_sessions, "octocat", 583231)
    named = await new_user(auth_sessions, "hubot", 480938)

    finished = await run_module(
        "codeflow_auth",
        "restate-users",
        named,
        env={"AUTH_DATABASE_URL": auth_database_url, "PATH": ""},
    )

    assert finished.returncode == 0
    assert "queued UserRestated for 1 user(s)" in finished.stdout
    assert [data.user_id for _, _, data in await restatements(auth_sessions)] == [named]  # type: ignore[attr-defined]
    assert timedelta(0) <= datetime.now(UTC) - SEEN
