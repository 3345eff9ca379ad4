"""Session lifetimes against the real database, with an explicit clock: the idle timeout,
the absolute lifetime, and the slide that never passes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from auth_policy_support import DAY, POLICY, T
from sqlalchemy import func, select, text

from codeflow_auth.errors import ReauthenticationRequired, SessionNotFound
from codeflow_auth.models import Session, User
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.sessions import service
from codeflow_auth.sessions.tokens import new_session_token, stored_form
from codeflow_auth.signin import repository as signin_repository
from codeflow_contracts import parse_envelope
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration


async def open_session(
    sessions: SessionFactory, *, created_at: datetime = T, expires: datetime | None = None
) -> str:
    """A user with one session opened at ``created_at``; its token."""
    token = new_session_token()
    async with transaction(sessions) as s:
        user = await signin_repository.create_user(
            s, name="Ada", email=None, email_verified=None, image=None
        )
        await sessions_repository.create_session(
            s,
            session_token=stored_form(token),
            user_id=user.id,
            expires=expires or created_at + POLICY.idle_timeout,
            created_at=created_at,
        )
    return token


async def use(sessions: SessionFactory, token: str, now: datetime) -> service.ActiveSession | None:
    async with transaction(sessions) as s:
        return await service.use_session(s, token, POLICY, now=now)


async def session_rows(sessions: SessionFactory) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Session)) or 0)


async def test_a_session_used_every_day_still_ends_at_its_absolute_lifetime(
    auth_sessions: SessionFactory,
) -> None:
    token = await open_session(auth_sessions)
    for day in range(1, 30):
        active = await use(auth_sessions, token, T + day * DAY)
        assert active is not None, f"ended on day {day}"
        assert active.expires <= T + 30 * DAY
    async with auth_sessions() as s:
        assert await s.scalar(select(Session.expires)) == T + 30 * DAY

    assert await use(auth_sessions, token, T + 30 * DAY) is None
    assert await session_rows(auth_sessions) == 0


async def test_a_session_unused_for_the_idle_timeout_ends_and_is_deleted(
    auth_sessions: SessionFactory,
) -> None:
    token = await open_session(auth_sessions)
    assert await use(auth_sessions, token, T + 3 * DAY) is not None  # slides to day 10

    assert await use(auth_sessions, token, T + 10 * DAY) is None
    assert await session_rows(auth_sessions) == 0


async def test_a_stored_expiry_beyond_the_absolute_lifetime_does_not_keep_a_session(
    auth_sessions: SessionFactory,
) -> None:
    # Written under longer settings: 45 days after its sign-in.
    token = await open_session(auth_sessions, expires=T + 45 * DAY)
    async with auth_sessions() as s:
        found = await service.peek_session(await s.connection(), token)
    assert found is not None
    assert service.writes_due(found, POLICY, T + 30 * DAY)

    async with transaction(auth_sessions) as s:
        assert await service.find_session(s, token, POLICY, now=T + 30 * DAY) is None
    assert await session_rows(auth_sessions) == 0


async def test_a_session_within_both_bounds_is_found_and_left_alone(
    auth_sessions: SessionFactory,
) -> None:
    token = await open_session(auth_sessions)
    now = T + timedelta(hours=20)
    async with auth_sessions() as s:
        found = await service.peek_session(await s.connection(), token)
        assert found is not None
        await signin_repository.update_user(s, found.user_id, last_active_at=now)
        await s.commit()
        found = await service.peek_session(await s.connection(), token)
    assert found is not None
    assert not service.writes_due(found, POLICY, now)
    active = await use(auth_sessions, token, now)
    assert active is not None
    assert (active.expires, active.refreshed) == (T + 7 * DAY, False)


async def test_erasing_the_account_takes_a_sign_in_within_the_window(
    auth_sessions: SessionFactory,
) -> None:
    token = await open_session(auth_sessions)
    async with transaction(auth_sessions) as s:
        found = await service.find_session(s, token, POLICY, now=T + timedelta(minutes=11))
        assert found is not None
        db_session, user = found
        with pytest.raises(ReauthenticationRequired) as refused:
            await service.request_deletion(
                s,
                user,
                signed_in_at=db_session.created_at,
                policy=POLICY,
                now=T + timedelta(minutes=11),
            )
    # Over HTTP: a 403 naming the sign-in and the window (flows/test_auth_reauthentication_flow).
    assert refused.value.window == timedelta(minutes=10)
    assert await session_rows(auth_sessions) == 1

    async with transaction(auth_sessions) as s:
        user = await s.get(User, db_session.user_id)
        assert user is not None
        deletion_id = await service.request_deletion(
            s, user, signed_in_at=T, policy=POLICY, now=T + timedelta(minutes=10)
        )
    assert await session_rows(auth_sessions) == 0
    async with auth_sessions() as s:
        queued = (await s.scalars(text("SELECT payload::text FROM outbox"))).all()
    # The id the person is given to follow the erasure travels to the janitor with it.
    assert deletion_id is not None
    assert [parse_envelope(payload).data.deletion_id for payload in queued] == [deletion_id]


async def test_a_persons_list_leaves_out_ended_sessions_and_only_they_can_end_theirs(
    auth_sessions: SessionFactory,
) -> None:
    old = await open_session(auth_sessions, created_at=T - 29 * DAY, expires=T + 2 * DAY)
    async with transaction(auth_sessions) as s:
        found = await service.peek_session(await s.connection(), old)
        assert found is not None
        user_id = found.user_id
        for opened in (T - DAY, T):
            await sessions_repository.create_session(
                s,
                session_token=stored_form(new_session_token()),
                user_id=user_id,
                expires=opened + 7 * DAY,
                created_at=opened,
            )
    someone_else = await open_session(auth_sessions)

    async with auth_sessions() as s:
        listed = await service.list_sessions(s, user_id, POLICY, now=T + DAY + timedelta(seconds=1))
        theirs = await service.peek_session(await s.connection(), someone_else)
    # The oldest ends a day after T (its absolute lifetime): at T + 1 day it is gone.
    assert [(row.created_at, ends) for row, ends in listed] == [
        (T, T + 7 * DAY),
        (T - DAY, T + 6 * DAY),
    ]
    assert theirs is not None
    async with transaction(auth_sessions) as s:
        with pytest.raises(SessionNotFound):
            await service.end_session(s, user_id, theirs.session_id)
        await service.end_session(s, user_id, listed[0][0].id)
    assert await session_rows(auth_sessions) == 3
