"""``DeleteUserData`` carried out for a run of commands at once, as the consumer hands over a
backlog: each user goes with their accounts, sessions and verification tokens, other users
stay, and every command is answered, as one command at a time would be.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.models import Account, Session, User, VerificationToken
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.signin import repository as signin_repository
from codeflow_contracts import DeleteUserData, parse_envelope
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

LATER = datetime.now(UTC) + timedelta(days=1)
EVIDENCE = ActivityEvidence(activity_interval=timedelta(hours=1))


async def new_user(sessions: SessionFactory, name: str, *, email: bool = True) -> str:
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s,
            name=name,
            email=f"{name}@example.com" if email else None,
            email_verified=None,
            image=None,
            login=name,
        )
        await signin_repository.link_account(
            s, user_id=user.id, type="oauth", provider="github", provider_account_id=name
        )
        await sessions_repository.create_session(
            s, session_token=f"hash-{name}", user_id=user.id, expires=LATER
        )
        s.add(
            VerificationToken(identifier=f"{name}@example.com", token=f"tok-{name}", expires=LATER)
        )
    return user.id


def delete_command(user_id: str, deletion_id: uuid.UUID | None = None) -> DeleteUserData:
    return DeleteUserData(
        deletion_id=deletion_id or uuid.uuid4(),
        user_id=user_id,
        # Asked for: goes ahead whatever the person did lately (the decision has its tests).
        reason="requested",
        requested_at=datetime.now(UTC),
    )


async def test_a_run_of_commands_deletes_each_user_and_answers_each_command(
    auth_sessions: SessionFactory,
) -> None:
    ada = await new_user(auth_sessions, "ada")
    bob = await new_user(auth_sessions, "bob", email=False)
    eve = await new_user(auth_sessions, "eve")
    again = uuid.uuid4()
    run = [
        delete_command(ada, again),
        delete_command(bob),
        delete_command("already-gone"),
        delete_command(ada, again),  # re-sent within the same run
    ]

    async with transaction(auth_sessions) as s:
        await carry_out_deletions(s, run, EVIDENCE)

    async with auth_sessions() as s:
        assert (await s.scalars(select(User.id))).all() == [eve]
        assert (await s.scalars(select(Account.user_id))).all() == [eve]
        assert (await s.scalars(select(Session.user_id))).all() == [eve]
        # Tokens go by the user's email; bob has none, so the token under his name stays.
        assert sorted((await s.scalars(select(VerificationToken.identifier))).all()) == [
            "bob@example.com",
            "eve@example.com",
        ]
        payloads = (await s.scalars(text("SELECT payload FROM outbox ORDER BY id"))).all()
    answers = [parse_envelope(json.dumps(p).encode()) for p in payloads]
    assert [(a.type, a.data.user_id, a.data.deletion_id) for a in answers] == [
        ("codeflow.user.deleted.v1", c.user_id, c.deletion_id) for c in run
    ]
