"""Sign-ins that meet other work on the same person: two first sign-ins of one GitHub user
at once (a person who retried, two tabs, two replicas answering each) make one user; a
sign-in while the person is being erased waits, and then makes a fresh user."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from auth_lock_support import someone_waits_for_a_lock
from sqlalchemy import delete, func, select, text

from codeflow_auth.models import Account, User
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.signin.service import sign_in
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PROFILE = GitHubProfile(
    id=4242, login="twice", name="Twice", email="twice@example.com", avatar_url=None
)
TOKENS = GitHubTokens(access_token="gho_twice", token_type="bearer", scope="read:user")


CIPHER = TokenCipher.from_config(f"k1:{generate_key()}")


async def signing_in(sessions: SessionFactory) -> str:
    async with transaction(sessions) as s:
        signed = await sign_in(
            s, PROFILE, TOKENS, cipher=CIPHER, session_max_age=timedelta(days=30)
        )
        return signed.user.id


async def test_two_first_sign_ins_at_once_make_one_user(auth_sessions: SessionFactory) -> None:
    # The first sign-in's transaction stays open until the second one is waiting on it.
    async with transaction(auth_sessions) as first:
        first_id = (
            await sign_in(first, PROFILE, TOKENS, cipher=CIPHER, session_max_age=timedelta(days=30))
        ).user.id
        second = asyncio.create_task(signing_in(auth_sessions))
        await wait_until(
            someone_waits_for_a_lock(auth_sessions), timeout=10, what="the second sign-in to wait"
        )
    second_id = await second

    assert second_id == first_id
    async with auth_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
        assert await s.scalar(select(func.count()).select_from(Account)) == 1


async def test_a_sign_in_during_the_persons_erasure_waits_and_makes_a_fresh_user(
    auth_sessions: SessionFactory,
) -> None:
    erased_id = await signing_in(auth_sessions)

    # The erasure holds the user's row (as auth's erasure does) until it commits.
    async with transaction(auth_sessions) as erasing:
        await erasing.execute(
            text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": erased_id}
        )
        await erasing.execute(delete(User).where(User.id == erased_id))
        again = asyncio.create_task(signing_in(auth_sessions))
        await wait_until(
            someone_waits_for_a_lock(auth_sessions), timeout=10, what="the sign-in to wait"
        )
    fresh_id = await again

    assert fresh_id != erased_id
    async with auth_sessions() as s:
        assert list(await s.scalars(select(User.id))) == [fresh_id]
