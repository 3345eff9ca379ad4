"""What the sign-in flow tests share: signing in as a browser, and reading auth's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text

from codeflow_contracts import Envelope, parse_envelope
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import SessionFactory
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

SESSION_COOKIE = "authjs.session-token"


async def start_sign_in(browser: httpx.AsyncClient, auth_url: str, **params: str) -> httpx.Response:
    """Ask auth to sign in with GitHub; answers with its redirect to GitHub, not followed."""
    return await browser.get(
        f"{auth_url}/auth/signin/github", params=params, follow_redirects=False
    )


async def sign_in(
    browser: httpx.AsyncClient, auth_url: str, *, as_login: str | None = None, **params: str
) -> httpx.Response:
    """The whole browser round trip; lands on ``/auth/session`` unless told otherwise.

    ``as_login`` picks the GitHub account, as GitHub's ``login`` parameter does; otherwise
    the emulator's signed-in user approves.
    """
    params.setdefault("callbackUrl", "/auth/session")
    started = await start_sign_in(browser, auth_url, **params)
    authorize = httpx.URL(started.headers["location"])
    if as_login is not None:
        authorize = authorize.copy_merge_params({"login": as_login})
    return await browser.get(authorize)


@asynccontextmanager
async def signed_in_browser(auth: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser (``auth.browser()``) that has been through :func:`sign_in`, open for the block."""
    async with auth.browser() as browser:
        await sign_in(browser, auth.url)
        yield browser


async def csrf_token(browser: httpx.AsyncClient, auth_url: str) -> str:
    """The CSRF token auth hands this browser, for a request that changes something."""
    token: str = (await browser.get(f"{auth_url}/auth/csrf")).json()["csrfToken"]
    return token


async def csrf_header(browser: httpx.AsyncClient, auth_url: str) -> dict[str, str]:
    """The CSRF token in the header a script's request carries it in."""
    return {"X-CSRF-Token": await csrf_token(browser, auth_url)}


async def delete_account(browser: httpx.AsyncClient, auth_url: str) -> httpx.Response:
    """``DELETE /auth/me``, the person asking to erase their account, as the page sends it."""
    return await browser.delete(f"{auth_url}/auth/me", headers=await csrf_header(browser, auth_url))


async def verify(
    browser: httpx.AsyncClient, auth_url: str, service: str = "profiles"
) -> httpx.Response:
    """The gateway's session check of this browser's session, on behalf of ``service``."""
    return await browser.get(f"{auth_url}/auth/verify", params={"service": service})


async def assert_signed_out_for_good(
    browser: httpx.AsyncClient, auth_url: str, sessions: SessionFactory, old_cookie: str
) -> None:
    """The ended session's cookie, presented again, is refused, and no session is left."""
    browser.cookies.set(SESSION_COOKIE, old_cookie)
    assert (await verify(browser, auth_url)).status_code == 401
    assert await scalar(sessions, "SELECT count(*) FROM sessions") == 0


async def scalar(sessions: SessionFactory, sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(text(sql), params)


async def execute(sessions: SessionFactory, sql: str, **params: Any) -> None:
    """Run one statement in a transaction of its own, committed."""
    async with sessions() as session, session.begin():
        await session.execute(text(sql), params)


async def outbox_drained(sessions: SessionFactory) -> None:
    async def drained() -> bool:
        pending = await scalar(sessions, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return pending == 0

    await wait_until(drained, timeout=30, what="auth's outbox to be published")


async def user_events(
    bootstrap_servers: str, user_id: str, topic: str = USER_EVENTS
) -> list[Envelope[Any]]:
    """Every message about ``user_id`` on ``topic``, read back with a plain consumer."""
    records = await read_topic(bootstrap_servers, topic)
    envelopes = [parse_envelope(r.value) for r in records if r.key == user_id.encode()]
    return [e for e in envelopes if e.subject == user_id]


ACTIVE = "codeflow.user.active.v1"


def types(envelopes: list[Envelope[Any]]) -> list[str]:
    return [e.type for e in envelopes]


def identity_events(envelopes: list[Envelope[Any]]) -> list[Envelope[Any]]:
    """The events about who the user is (activity left out: landing on a page is activity)."""
    return [e for e in envelopes if e.type != ACTIVE]
