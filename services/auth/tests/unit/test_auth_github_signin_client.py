"""Sign-in's calls to GitHub share one connection pool for the life of the service: a
sign-in builds no HTTP transport (and so no TLS context) of its own, and the flow still
trades a code for tokens and reads the profile, against the GitHub stand-in in process."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from codeflow_auth.config import AuthSettings
from codeflow_auth.signin.github import GitHub
from codeflow_auth.signin.state import SignInState
from codeflow_github_emulator import EmulatorSettings, create_app
from codeflow_github_emulator.testing import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    MONALISA_ID,
    redirect_query,
)

EMULATOR = "http://github.test"


class RecordingTransport(httpx2.AsyncBaseTransport):
    """The stand-in in process, counting the requests sent and whether it was closed.

    ``/user`` is answered only once ``/user/emails`` has been asked too (or after a second).
    """

    def __init__(self) -> None:
        self.emulator = create_app(EmulatorSettings(fixtures=None))
        self._app = httpx2.ASGITransport(app=self.emulator)
        self.paths: list[str] = []
        self.closed = False
        self.emails_asked = asyncio.Event()
        self.user_waited_for_emails = False

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert not self.closed, "a request went through a closed transport"
        self.paths.append(request.url.path)
        if request.url.path == "/user/emails":
            self.emails_asked.set()
        if request.url.path == "/user":
            try:
                await asyncio.wait_for(self.emails_asked.wait(), timeout=1.0)
                self.user_waited_for_emails = True
            except TimeoutError:
                pass
        return await self._app.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True


def settings() -> AuthSettings:
    return AuthSettings(
        environment="development",
        public_url="http://127.0.0.1:8000",
        github_client_id=DEV_CLIENT_ID,
        github_client_secret=DEV_CLIENT_SECRET,  # type: ignore[arg-type]
        github_oauth_base_url=EMULATOR,
        github_api_base_url=EMULATOR,
    )


@pytest.fixture
async def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def github(transport: RecordingTransport) -> AsyncIterator[GitHub]:
    client = GitHub(settings(), transport=transport)
    yield client
    await client.aclose()


async def code_for(transport: RecordingTransport, authorize_url: str, login: str) -> str:
    """The browser half: the stand-in's authorize page approves for ``login``."""
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=transport.emulator)
    ) as browser:
        url = httpx2.URL(authorize_url).copy_merge_params({"login": login})
        granted = await browser.get(url)
    assert granted.status_code == 302, granted.text
    return redirect_query(granted.headers["location"])["code"]


def count_tls_contexts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    made: list[object] = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return create(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


async def test_sign_ins_go_through_the_one_pool_and_leave_it_open(
    github: GitHub, transport: RecordingTransport
) -> None:
    for _ in range(2):
        state = SignInState.new("/")
        code = await code_for(transport, github.authorization_url(state), "monalisa")
        tokens = await github.exchange_code(code, state)
        profile = await github.fetch_profile(tokens)
        assert profile.id == MONALISA_ID
    assert transport.paths.count("/login/oauth/access_token") == 2
    assert transport.paths.count("/user") == 2
    assert transport.paths.count("/user/emails") == 2
    assert not transport.closed


async def test_closing_the_client_closes_its_pool(transport: RecordingTransport) -> None:
    github = GitHub(settings(), transport=transport)
    await github.aclose()
    assert transport.closed


async def test_a_sign_in_builds_no_tls_context_of_its_own(
    github: GitHub, transport: RecordingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = count_tls_contexts(monkeypatch)
    state = SignInState.new("/")
    code = await code_for(transport, github.authorization_url(state), "monalisa")
    await github.fetch_profile(await github.exchange_code(code, state))
    assert made == []


async def test_the_default_pool_is_made_once_not_per_sign_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = count_tls_contexts(monkeypatch)
    github = GitHub(settings())
    try:
        before = len(made)
        for _ in range(3):
            github.authorization_url(SignInState.new("/"))
        assert len(made) == before
    finally:
        await github.aclose()


async def test_the_profile_and_its_emails_are_asked_for_at_once(
    github: GitHub, transport: RecordingTransport
) -> None:
    state = SignInState.new("/")
    code = await code_for(transport, github.authorization_url(state), "monalisa")
    profile = await github.fetch_profile(await github.exchange_code(code, state))
    assert transport.user_waited_for_emails
    assert profile.email is not None
