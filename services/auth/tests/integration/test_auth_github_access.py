"""Acting on GitHub for a person with the token sealed in their ``accounts`` row: the row is
opened with auth's cipher, and a GitHub that never answers costs at most the call's timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest

from codeflow_auth.errors import GitHubAccessUnavailable, GitHubAuthorizationEnded
from codeflow_auth.github_access.client import GitHubApi
from codeflow_auth.github_access.service import GitHubAccess
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.signin.service import sign_in
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_github_emulator import EmulatorSettings, create_app
from codeflow_github_emulator.testing import OCTOCAT_ID
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.asgi import silent_server

pytestmark = pytest.mark.integration

CIPHER = TokenCipher.from_config(f"k1:{generate_key()}")
OCTOCAT = GitHubProfile(id=OCTOCAT_ID, login="octocat", name=None, email=None, avatar_url=None)


@pytest.fixture
def emulator() -> httpx2.ASGITransport:
    """The GitHub stand-in, reached in process."""
    return httpx2.ASGITransport(app=create_app(EmulatorSettings(fixtures=None, auto_login=None)))


@pytest.fixture
async def github(emulator: httpx2.ASGITransport) -> AsyncIterator[GitHubApi]:
    api = GitHubApi("http://github.test", transport=emulator)
    yield api
    await api.aclose()


async def signed_in(sessions: SessionFactory, token: str) -> str:
    """Octocat signed in with ``token``, sealed as sign-in seals it; their user id."""
    tokens = GitHubTokens(access_token=token, token_type="bearer", scope="read:user")
    async with transaction(sessions) as session:
        outcome = await sign_in(
            session, OCTOCAT, tokens, cipher=CIPHER, session_max_age=timedelta(days=1)
        )
    return outcome.user.id


async def test_the_sealed_token_of_the_persons_row_is_the_one_github_sees(
    auth_sessions: SessionFactory, emulator: httpx2.ASGITransport, github: GitHubApi
) -> None:
    async with httpx2.AsyncClient(transport=emulator, base_url="http://github.test") as admin:
        issued = await admin.post("/_emulator/tokens", json={"login": "octocat", "scope": "repo"})
    user_id = await signed_in(auth_sessions, issued.json()["access_token"])
    access = GitHubAccess(auth_sessions, CIPHER, github)

    listed = await access.repositories(user_id, page=1, per_page=100)

    assert listed.body is not None
    assert "octocat/boysenberry-repo-1" in {item.full_name for item in listed.body.items}


async def test_a_token_sealed_under_another_key_ends_the_authorization(
    auth_sessions: SessionFactory, github: GitHubApi
) -> None:
    user_id = await signed_in(auth_sessions, "gho_sealed_elsewhere")
    other = TokenCipher.from_config(f"k1:{generate_key()}")

    with pytest.raises(GitHubAuthorizationEnded):
        await GitHubAccess(auth_sessions, other, github).repository(user_id, 1296300)


async def test_a_github_that_never_answers_is_unavailable_within_the_timeout(
    auth_sessions: SessionFactory,
) -> None:
    user_id = await signed_in(auth_sessions, "gho_never_answered")
    async with silent_server() as url:
        api = GitHubApi(url, connect_timeout=0.2, call_timeout=0.5)
        access = GitHubAccess(auth_sessions, CIPHER, api)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(GitHubAccessUnavailable):
            await access.repositories(user_id, page=1, per_page=30)
        assert loop.time() - started < 3
        await api.aclose()
