"""Two sign-ins of one new GitHub user at once (a person who retried, two tabs, two
replicas answering each) both succeed, and make one user with one account."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from codeflow_auth.models import Account, User
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.signin.service import sign_in
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_infra.testing import wait_until
from codeflow_messaging import SessionFactory, transaction

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PROFILE = GitHubProfile(
    id=4242, login="twice", name="Twice", email="twice@example.com", avatar_url=None
)
TOKENS = GitHubTokens(access_token="gho_twice", token_type="bearer", scope="read:user")


async def test_two_first_sign_ins_at_once_make_one_user(auth_sessions: SessionFactory) -> None:
    cipher = TokenCipher.from_config(f"k1:{generate_key()}")

    async def signing_in() -> str:
        async with transaction(auth_sessions) as s:
            signed = await sign_in(
                s, PROFILE, TOKENS, cipher=cipher, session_max_age=timedelta(days=30)
            )
            return signed.user.id

    async def waiting_for_a_lock() -> bool:
        async with auth_sessions() as s:
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            return bool(waiting)

    # The first sign-in's transaction stays open until the second one is waiting on it.
    async with transaction(auth_sessions) as first:
        first_id = (
            await sign_in(first, PROFILE, TOKENS, cipher=cipher, session_max_age=timedelta(days=30))
        ).user.id
        second = asyncio.create_task(signing_in())
        await wait_until(waiting_for_a_lock, timeout=10, what="the second sign-in to wait")
    second_id = await second

    assert second_id == first_id
    async with auth_sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
        assert await s.scalar(select(func.count()).select_from(Account)) == 1
