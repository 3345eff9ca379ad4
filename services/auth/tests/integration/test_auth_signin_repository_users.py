"""Users through sign-in's repository: create, find, update; deleting one takes their accounts and
sessions with it (the database cascades)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.constraints import EmailAlreadyUsed
from codeflow_auth.models import Account, Session, User
from codeflow_auth.sessions import repository as sessions_repository
from codeflow_auth.signin import repository as signin_repository
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

VERIFIED = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def new_user(sessions: SessionFactory, email: str | None = "ada@example.com") -> User:
    async with transaction(sessions) as s:
        return await signin_repository.create_user(
            s, name="Ada", email=email, email_verified=VERIFIED, image=None, login="ada"
        )


async def test_a_created_user_reads_back_with_a_cuid_and_aware_utc_times(
    auth_sessions: SessionFactory,
) -> None:
    created = await new_user(auth_sessions)

    async with auth_sessions() as s:
        found = await s.get(User, created.id)

    assert found is not None
    assert (found.id, found.name, found.email, found.login) == (
        created.id,
        "Ada",
        "ada@example.com",
        "ada",
    )
    assert len(found.id) == 25
    assert found.id[0].isalpha()
    assert found.email_verified == VERIFIED.replace(microsecond=123000)
    assert found.email_verified == created.email_verified
    assert found.last_active_at is None


async def test_times_are_stored_as_utc_whatever_zone_they_came_in(
    auth_sessions: SessionFactory,
) -> None:
    paris = timezone(timedelta(hours=2))
    async with transaction(auth_sessions) as s:
        user = await signin_repository.create_user(
            s,
            name=None,
            email=None,
            email_verified=datetime(2026, 6, 1, 14, 0, tzinfo=paris),
            image=None,
        )
    async with auth_sessions() as s:
        stored = await s.scalar(
            text("SELECT email_verified FROM users WHERE id = :id"), {"id": user.id}
        )
    assert stored == datetime(2026, 6, 1, 12, 0)


async def test_naive_datetimes_are_refused(auth_sessions: SessionFactory) -> None:
    async with auth_sessions() as s:
        with pytest.raises(ValueError, match="timezone-aware"):
            await signin_repository.create_user(
                s, name=None, email=None, email_verified=datetime(2026, 1, 1), image=None
            )


async def test_users_are_found_by_email_and_by_account(auth_sessions: SessionFactory) -> None:
    user = await new_user(auth_sessions)
    async with transaction(auth_sessions) as s:
        await signin_repository.link_account(
            s, user_id=user.id, type="oauth", provider="github", provider_account_id="42"
        )

    async with auth_sessions() as s:
        by_email = await signin_repository.get_user_by_email(s, "ada@example.com")
        by_account = await signin_repository.get_user_by_account(s, "github", "42")
        assert await signin_repository.get_user_by_email(s, "bob@example.com") is None
        assert await signin_repository.get_user_by_account(s, "github", "43") is None
        assert await signin_repository.get_user_by_account(s, "gitlab", "42") is None
        assert await s.get(User, "nosuchuser") is None

    assert by_email is not None
    assert by_email.id == user.id
    assert by_account is not None
    assert by_account.id == user.id


async def test_a_second_user_with_the_same_email_is_refused_and_the_transaction_lives_on(
    auth_sessions: SessionFactory,
) -> None:
    first = await new_user(auth_sessions)

    async with transaction(auth_sessions) as s:
        with pytest.raises(EmailAlreadyUsed):
            await new_user_in(s, "ada@example.com")
        # The failed insert was rolled back to its savepoint; the caller can carry on.
        assert await signin_repository.get_user_by_email(s, "ada@example.com") is not None
        await new_user_in(s, "other@example.com")

    async with auth_sessions() as s:
        emails = (await s.scalars(select(User.email).order_by(User.email))).all()
    assert emails == ["ada@example.com", "other@example.com"]
    assert first.email == "ada@example.com"


async def new_user_in(s: AsyncSession, email: str) -> User:
    return await signin_repository.create_user(
        s, name=None, email=email, email_verified=None, image=None
    )


async def test_users_without_email_may_be_many(auth_sessions: SessionFactory) -> None:
    await new_user(auth_sessions, email=None)
    await new_user(auth_sessions, email=None)
    async with auth_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 2


async def test_update_user_sets_the_given_fields_only(auth_sessions: SessionFactory) -> None:
    user = await new_user(auth_sessions)
    seen = datetime(2026, 5, 5, 8, 0, tzinfo=UTC)

    async with transaction(auth_sessions) as s:
        updated = await signin_repository.update_user(
            s, user.id, login="ada-lovelace", last_active_at=seen, image="https://img/ada"
        )
    assert updated is not None

    async with auth_sessions() as s:
        found = await s.get(User, user.id)
    assert found is not None
    assert (found.login, found.last_active_at, found.image) == (
        "ada-lovelace",
        seen,
        "https://img/ada",
    )
    assert (found.name, found.email) == ("Ada", "ada@example.com")


async def test_update_user_refuses_unknown_fields_and_answers_none_for_unknown_users(
    auth_sessions: SessionFactory,
) -> None:
    user = await new_user(auth_sessions)
    async with transaction(auth_sessions) as s:
        with pytest.raises(ValueError, match="id"):
            await signin_repository.update_user(s, user.id, id="other")
        assert await signin_repository.update_user(s, "nosuchuser", name="X") is None


async def test_changing_to_an_email_someone_else_has_is_refused(
    auth_sessions: SessionFactory,
) -> None:
    await new_user(auth_sessions, "ada@example.com")
    bob = await new_user(auth_sessions, "bob@example.com")
    async with transaction(auth_sessions) as s:
        with pytest.raises(EmailAlreadyUsed):
            await signin_repository.update_user(s, bob.id, email="ada@example.com")


async def test_deleting_a_user_deletes_their_accounts_and_sessions(
    auth_sessions: SessionFactory,
) -> None:
    ada = await new_user(auth_sessions, "ada@example.com")
    bob = await new_user(auth_sessions, "bob@example.com")
    expires = datetime.now(UTC) + timedelta(days=30)
    async with transaction(auth_sessions) as s:
        for user, number in ((ada, "1"), (bob, "2")):
            await signin_repository.link_account(
                s, user_id=user.id, type="oauth", provider="github", provider_account_id=number
            )
            await sessions_repository.create_session(
                s, session_token=f"hash-{number}", user_id=user.id, expires=expires
            )

    async with transaction(auth_sessions) as s:
        await s.execute(delete(User).where(User.id == ada.id))

    async with auth_sessions() as s:
        assert await s.get(User, ada.id) is None
        assert (await s.scalars(select(Account.user_id))).all() == [bob.id]
        assert (await s.scalars(select(Session.user_id))).all() == [bob.id]
