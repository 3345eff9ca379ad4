"""An emulator per test, driven in-process through httpx's ASGI transport (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from codeflow_github_emulator import EmulatorSettings, ManualClock, create_app
from codeflow_github_emulator.testing import (
    CALLBACK,
    Authorize,
    SignIn,
    open_authorize,
    redirect_query,
    request_token,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings() -> EmulatorSettings:
    return EmulatorSettings(fixtures=None, auto_login=None)


@pytest.fixture
def app(settings: EmulatorSettings, clock: ManualClock) -> Starlette:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9000") as c:
        yield c


@pytest.fixture
def authorize(client: httpx.AsyncClient) -> Authorize:
    """Run the browser half for a user and return the code the callback received."""

    async def run(
        login: str = "octocat",
        scope: str = "read:user user:email",
        code_challenge: str | None = None,
        redirect_uri: str = CALLBACK,
    ) -> str:
        params = {"redirect_uri": redirect_uri, "state": "st4te", "scope": scope, "login": login}
        if code_challenge is not None:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        response = await open_authorize(client, **params)
        assert response.status_code == 302, response.text
        return redirect_query(response.headers["location"])["code"]

    return run


@pytest.fixture
def sign_in(client: httpx.AsyncClient, authorize: Authorize) -> SignIn:
    """The whole dance for a user; returns an access token."""

    async def run(login: str = "octocat", scope: str = "read:user user:email") -> str:
        code = await authorize(login=login, scope=scope)
        response = await request_token(client, code=code, redirect_uri=CALLBACK)
        token = response.json()["access_token"]
        assert isinstance(token, str)
        return token

    return run
