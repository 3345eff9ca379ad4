"""Sessions and verification tokens through the sessions' repository."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from codeflow_auth.constraints import SessionTokenTaken, UserNotFound
from codeflow_auth.models import Session, VerificationToken
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.signin import repository as signin_repository
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

EXPIRES = datetime(2026, 12, 28, 9, 15, 30, 250000, tzinfo=UTC)


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def new_user_id(sessions: SessionFactory, email: str | None = None) -> str:
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name="Ada", email=email, email_verified=None, image=None
        )
        return user.id


async def add_sessions(sessions: SessionFactory, user_id: str, *tokens: str) -> None:
    """A session of ``user_id`` for each of ``tokens``, expiring at ``EXPIRES``."""
    async with transaction(sessions) as s:
        for token in tokens:
            await sessions_repository.create_session(
                s, session_token=token, user_id=user_id, expires=EXPIRES
            )


async def test_a_session_and_its_user_come_back_together(auth_sessions: SessionFactory) -> None:
    user_id = await new_user_id(auth_sessions, "ada@example.com")
    async with transaction(auth_sessions) as s:
        created = await sessions_repository.create_session(
            s, session_token=hashed("cookie"), user_id=user_id, expires=EXPIRES
        )

    async with auth_sessions() as s:
        found = await sessions_repository.get_session_and_user(s, hashed("cookie"))
        assert await sessions_repository.get_session_and_user(s, hashed("other")) is None
    assert found is not None
    session, user = found
    assert (session.id, session.user_id, session.expires) == (created.id, user_id, EXPIRES)
    assert session.expires.tzinfo is UTC
    assert (user.id, user.email) == (user_id, "ada@example.com")


async def test_session_tokens_are_unique_and_sessions_need_a_user(
    auth_sessions: SessionFactory,
) -> None:
    user_id = await new_user_id(auth_sessions)
    await add_sessions(auth_sessions, user_id, "h")
    async with transaction(auth_sessions) as s:
        with pytest.raises(SessionTokenTaken):
            await sessions_repository.create_session(
                s, session_token="h", user_id=user_id, expires=EXPIRES
            )
        with pytest.raises(UserNotFound):
            await sessions_repository.create_session(
                s, session_token="h2", user_id="nobody", expires=EXPIRES
            )


async def test_update_session_moves_the_expiry(auth_sessions: SessionFactory) -> None:
    user_id = await new_user_id(auth_sessions)
    later = EXPIRES + timedelta(days=1)
    await add_sessions(auth_sessions, user_id, "h")
    async with transaction(auth_sessions) as s:
        updated = await sessions_repository.update_session(s, "h", expires=later)
        assert await sessions_repository.update_session(s, "missing", expires=later) is None
    assert updated is not None
    assert updated.expires == later

    async with auth_sessions() as s:
        assert await s.scalar(select(Session.expires)) == later


async def test_delete_session_signs_out_one_session(auth_sessions: SessionFactory) -> None:
    user_id = await new_user_id(auth_sessions)
    await add_sessions(auth_sessions, user_id, "a", "b")
    async with transaction(auth_sessions) as s:
        assert await sessions_repository.delete_session(s, "a") is True
        assert await sessions_repository.delete_session(s, "a") is False
    async with auth_sessions() as s:
        assert (await s.scalars(select(Session.session_token))).all() == ["b"]


async def test_delete_sessions_of_user_signs_out_everywhere_and_counts(
    auth_sessions: SessionFactory,
) -> None:
    ada, bob = await new_user_id(auth_sessions), await new_user_id(auth_sessions)
    await add_sessions(auth_sessions, ada, "a0", "a1", "a2")
    await add_sessions(auth_sessions, bob, "b0")

    async with transaction(auth_sessions) as s:
        assert await sessions_repository.delete_sessions_of_user(s, ada) == 3
        assert await sessions_repository.delete_sessions_of_user(s, ada) == 0
    async with auth_sessions() as s:
        assert (await s.scalars(select(Session.user_id))).all() == [bob]


async def test_delete_verification_tokens_for_an_identifier(
    auth_sessions: SessionFactory,
) -> None:
    async with transaction(auth_sessions) as s:
        s.add_all(
            VerificationToken(identifier=identifier, token=token, expires=EXPIRES)
            for identifier, token in (("ada", "t1"), ("ada", "t2"), ("bob", "t1"))
        )

    async with transaction(auth_sessions) as s:
        assert await sessions_repository.delete_verification_tokens_for(s, "ada") == 2
        assert await sessions_repository.delete_verification_tokens_for(s, "ada") == 0
    async with auth_sessions() as s:
        assert (await s.scalars(select(VerificationToken.identifier))).all() == ["bob"]
