"""A person's list of their sessions, and ending one of them (another device, or this one)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from auth_flow_support import (
    SESSION_COOKIE,
    assert_signed_out_for_good,
    csrf_header,
    scalar,
    sign_in,
    signed_in_browser,
    verify,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

NOT_FOUND = "urn:codeflow:problem:session-not-found"


async def test_a_person_sees_their_own_live_sessions_and_which_one_is_theirs_now(
    auth,
) -> None:
    async with auth.browser() as laptop, auth.browser() as phone, auth.browser() as other:
        await sign_in(laptop, auth.url)
        await sign_in(phone, auth.url)
        await sign_in(other, auth.url, as_login="monalisa")
        listed = await laptop.get(f"{auth.url}/auth/sessions")
        cookie = laptop.cookies[SESSION_COOKIE]
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    sessions = listed.json()["sessions"]
    mine = await scalar(
        auth.sessions,
        "SELECT array_agg(s.id) FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE u.login = 'octocat'",
    )
    assert sorted(s["id"] for s in sessions) == sorted(mine)
    assert [s["current"] for s in sessions].count(True) == 1
    now = datetime.now(UTC)
    for s in sessions:
        assert set(s) == {"id", "createdAt", "expires", "current"}
        created = datetime.fromisoformat(s["createdAt"])
        expires = datetime.fromisoformat(s["expires"])
        assert now - timedelta(minutes=1) < created <= now
        assert abs(expires - (created + timedelta(days=7))) < timedelta(seconds=1)
    assert cookie not in listed.text
    assert hashlib.sha256(cookie.encode()).hexdigest() not in listed.text


async def test_listing_sessions_takes_a_session(auth) -> None:
    async with auth.browser() as browser:
        refused = await browser.get(f"{auth.url}/auth/sessions")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


async def test_ending_another_of_my_sessions_signs_that_device_out(auth) -> None:
    async with auth.browser() as laptop, auth.browser() as phone:
        await sign_in(laptop, auth.url)
        await sign_in(phone, auth.url)
        sessions = (await laptop.get(f"{auth.url}/auth/sessions")).json()["sessions"]
        [phones] = [s["id"] for s in sessions if not s["current"]]
        without_token = await laptop.delete(f"{auth.url}/auth/sessions/{phones}")
        assert without_token.status_code == 403
        ended = await laptop.delete(
            f"{auth.url}/auth/sessions/{phones}", headers=await csrf_header(laptop, auth.url)
        )
        assert ended.status_code == 204
        assert ended.headers["cache-control"] == "no-store"
        assert "set-cookie" not in ended.headers
        assert (await verify(phone, auth.url)).status_code == 401
        assert (await verify(laptop, auth.url)).status_code == 200
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 1


async def test_ending_this_session_signs_me_out_and_clears_the_cookie(auth) -> None:
    async with signed_in_browser(auth) as browser:
        [this] = (await browser.get(f"{auth.url}/auth/sessions")).json()["sessions"]
        old_cookie = browser.cookies[SESSION_COOKIE]
        ended = await browser.delete(
            f"{auth.url}/auth/sessions/{this['id']}", headers=await csrf_header(browser, auth.url)
        )
        assert ended.status_code == 204
        assert f'{SESSION_COOKIE}=""' in ended.headers["set-cookie"]
        await assert_signed_out_for_good(browser, auth.url, auth.sessions, old_cookie)


async def test_someone_elses_session_answers_404_exactly_as_a_missing_one(auth) -> None:
    async with auth.browser() as mine, auth.browser() as theirs:
        await sign_in(mine, auth.url)
        await sign_in(theirs, auth.url, as_login="monalisa")
        [their_session] = (await theirs.get(f"{auth.url}/auth/sessions")).json()["sessions"]
        headers = await csrf_header(mine, auth.url)
        someone_elses = await mine.delete(
            f"{auth.url}/auth/sessions/{their_session['id']}", headers=headers
        )
        missing = await mine.delete(f"{auth.url}/auth/sessions/c{'0' * 24}", headers=headers)
        assert (await verify(theirs, auth.url)).status_code == 200
    for answer in (someone_elses, missing):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == NOT_FOUND
    assert someone_elses.json() == missing.json()
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 2


async def test_the_openapi_document_describes_the_session_routes(auth) -> None:
    async with auth.browser() as client:
        paths = (await client.get(f"{auth.url}/auth/openapi.json")).json()["paths"]
    assert set(paths["/auth/sessions"]["get"]["responses"]) >= {"200", "401"}
    ending = paths["/auth/sessions/{session_id}"]["delete"]
    assert set(ending["responses"]) >= {"204", "401", "403", "404"}
