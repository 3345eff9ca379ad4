"""Bounded sessions over HTTP: a session past its idle timeout or its absolute lifetime is
refused everywhere and deleted; the cookie ends when the session does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from auth_flow_support import (
    SESSION_COOKIE,
    execute,
    scalar,
    sign_in,
    signed_in_browser,
    start_sign_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SIGNED_IN_31_DAYS_AGO = (
    "UPDATE sessions SET created_at = (now() AT TIME ZONE 'UTC') - interval '31 days'"
)
IDLE_FOR_A_WEEK = "UPDATE sessions SET expires = (now() AT TIME ZONE 'UTC') - interval '1 second'"


async def run_sql(auth, sql: str) -> None:
    await execute(auth.sessions, sql)


@pytest.mark.parametrize(
    "ended", [SIGNED_IN_31_DAYS_AGO, IDLE_FOR_A_WEEK], ids=["absolute", "idle"]
)
@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/auth/verify?service=profiles", 401, None),
        ("/auth/session", 200, None),
        ("/auth/csrf", 401, None),
    ],
    ids=["verify", "session", "csrf"],
)
async def test_an_ended_session_is_refused_and_deleted(
    auth, ended: str, path: str, status: int, body: None
) -> None:
    async with signed_in_browser(auth) as browser:
        await run_sql(auth, ended)
        answer = await browser.get(f"{auth.url}{path}")
    assert answer.status_code == status
    if status == 200:
        assert answer.json() is body  # Auth.js answers null for no session
    else:
        assert answer.headers["content-type"] == "application/problem+json"
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 0


async def test_a_new_session_and_its_cookie_last_the_idle_timeout(auth) -> None:
    async with auth.browser() as browser:
        started = await start_sign_in(browser, auth.url, callbackUrl="/auth/session")
        callback = await browser.get(started.headers["location"], follow_redirects=False)
        landed = await browser.get(callback.headers["location"], follow_redirects=False)
    [set_cookie] = [
        c for c in landed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    ]
    assert f"Max-Age={7 * 86400}" in set_cookie or f"Max-Age={7 * 86400 - 1}" in set_cookie
    days_left = await scalar(
        auth.sessions,
        "SELECT extract(epoch FROM expires - created_at) / 86400 FROM sessions",
    )
    assert abs(float(days_left) - 7) < 0.001


async def test_a_slide_stops_at_the_absolute_lifetime_and_so_does_the_cookie(auth) -> None:
    async with auth.browser() as browser:
        await sign_in(browser, auth.url, callbackUrl="/auth/csrf")
        # Signed in 29.5 days ago, last slid days ago: a week from now is past its end.
        await run_sql(
            auth,
            "UPDATE sessions SET created_at = (now() AT TIME ZONE 'UTC') - interval '29.5 days',"
            " expires = (now() AT TIME ZONE 'UTC') + interval '6 hours'",
        )
        answer = await browser.get(f"{auth.url}/auth/session")
    assert answer.status_code == 200
    end = datetime.now(UTC) + timedelta(days=0.5)
    expires = datetime.fromisoformat(answer.json()["expires"])
    assert abs((expires - end).total_seconds()) < 60
    stored_end = await scalar(
        auth.sessions, "SELECT extract(epoch FROM expires - created_at) / 86400 FROM sessions"
    )
    assert abs(float(stored_end) - 30) < 0.001
    cookie = answer.headers["set-cookie"]
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert abs(max_age - 43200) < 60
    cookie_expires = parsedate_to_datetime(cookie.split("expires=")[1].split(";")[0])
    assert abs((cookie_expires - end).total_seconds()) < 60
