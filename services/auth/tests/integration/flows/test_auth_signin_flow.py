from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import httpx
import pytest
from auth_flow_support import (
    SESSION_COOKIE,
    identity_events,
    outbox_drained,
    scalar,
    sign_in,
    signed_in_browser,
    start_sign_in,
    types,
    user_events,
)

from codeflow_auth.sessions.tokens import stored_form

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

OCTOCAT_GITHUB_ID = 583231


async def test_a_first_sign_in_creates_user_account_and_session_and_emits_one_user_created(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        landed = await sign_in(browser, auth.url)

    assert landed.status_code == 200
    assert str(landed.url) == f"{auth.url}/auth/session"
    user = landed.json()["user"]
    assert user["name"] == "The Octocat"
    assert await scalar(auth.sessions, "SELECT count(*) FROM users") == 1
    assert (
        await scalar(
            auth.sessions,
            "SELECT user_id FROM accounts WHERE provider = 'github' AND provider_account_id = :id",
            id=str(OCTOCAT_GITHUB_ID),
        )
        == user["id"]
    )
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 1

    await outbox_drained(auth.sessions)
    events = await user_events(kafka_bootstrap_servers, user["id"])
    assert types(events).count("codeflow.user.created.v1") == 1
    created = next(e for e in events if e.type == "codeflow.user.created.v1")
    assert created.data.github_id == OCTOCAT_GITHUB_ID
    assert created.data.login == "octocat"


async def test_a_second_sign_in_opens_a_new_session_for_the_same_user_and_emits_no_user_created(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as first, auth.browser() as second:
        user_id = (await sign_in(first, auth.url)).json()["user"]["id"]
        again = await sign_in(second, auth.url)
    assert again.json()["user"]["id"] == user_id
    assert await scalar(auth.sessions, "SELECT count(*) FROM users") == 1
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 2

    await outbox_drained(auth.sessions)
    events = identity_events(await user_events(kafka_bootstrap_servers, user_id))
    assert types(events) == ["codeflow.user.created.v1"]


async def test_a_rename_on_github_is_found_by_github_id_and_emitted_as_user_updated(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        user_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
        renamed = await browser.post(
            f"{auth.emulator_url}/_emulator/users",
            json={"id": OCTOCAT_GITHUB_ID, "login": "octocat-renamed", "name": "Mona Octocat"},
        )
        renamed.raise_for_status()
        again = await sign_in(browser, auth.url, as_login="octocat-renamed")
    assert again.json()["user"]["id"] == user_id
    assert again.json()["user"]["name"] == "Mona Octocat"

    await outbox_drained(auth.sessions)
    events = identity_events(await user_events(kafka_bootstrap_servers, user_id))
    assert types(events) == ["codeflow.user.created.v1", "codeflow.user.updated.v1"]
    assert events[1].data.login == "octocat-renamed"
    assert set(events[1].data.changed) == {"login", "name"}


async def test_a_user_who_keeps_their_email_private_can_sign_in(start_auth) -> None:
    auth = await start_auth(auto_login="private-person")
    async with auth.browser() as browser:
        landed = await sign_in(browser, auth.url)
    assert landed.status_code == 200
    email = await scalar(auth.sessions, "SELECT email FROM users")
    assert email is not None
    assert await scalar(auth.sessions, "SELECT email_verified IS NOT NULL FROM users")


async def _approved_at_github(auth, browser: httpx.AsyncClient, **params: str) -> tuple[str, str]:
    """Start a sign-in and let GitHub approve it, stopping before its redirect back: the
    callback URL GitHub sends the browser to, and the sealed state cookie auth set."""
    started = await start_sign_in(browser, auth.url, **params)
    at_github = await browser.get(started.headers["location"], follow_redirects=False)
    return at_github.headers["location"], started.cookies["codeflow.sign-in-state"]


async def _callback_with(
    auth, browser: httpx.AsyncClient, *, state: str | None = None, code: str | None = None
) -> tuple[httpx.Response, str, str]:
    """Start a sign-in, stop at GitHub's redirect back, and call the callback differently."""
    callback, _ = await _approved_at_github(auth, browser, callbackUrl="/")
    back = httpx.URL(callback)
    real_state, real_code = back.params["state"], back.params["code"]
    response = await browser.get(
        f"{auth.url}/auth/callback/github",
        params={"state": state or real_state, "code": code or real_code},
        follow_redirects=False,
    )
    return response, real_state, real_code


async def _no_session(auth) -> bool:
    return await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 0


async def _refused_without_a_session(auth, response: httpx.Response, detail: str) -> None:
    """The callback answered 400 with a problem whose detail says ``detail``, and no session
    was opened."""
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert await _no_session(auth)


async def test_a_wrong_state_gets_400_and_no_session(auth) -> None:
    async with auth.browser() as browser:
        response, _, _ = await _callback_with(auth, browser, state="forged-state")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:codeflow:problem:invalid-sign-in-state"
    assert await _no_session(auth)


async def test_a_missing_state_cookie_gets_400_and_no_session(auth) -> None:
    async with auth.browser() as browser:
        callback, _ = await _approved_at_github(auth, browser)
        browser.cookies.clear()
        response = await browser.get(callback, follow_redirects=False)
    await _refused_without_a_session(auth, response, "no sign-in in progress")


async def test_a_replayed_callback_gets_400_and_opens_no_second_session(auth) -> None:
    async with auth.browser() as browser:
        callback, _ = await _approved_at_github(auth, browser)
        first = await browser.get(callback, follow_redirects=False)
        replayed = await browser.get(callback, follow_redirects=False)
    assert first.status_code == 302
    assert replayed.status_code == 400
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 1


async def test_an_expired_state_gets_400_and_no_session(start_auth) -> None:
    auth = await start_auth(state_ttl=timedelta(seconds=1))
    async with auth.browser() as browser:
        callback, sealed = await _approved_at_github(auth, browser)
        await asyncio.sleep(2.2)
        # A browser drops the cookie at its Max-Age; an old copy presented anyway is refused.
        response = await browser.get(
            callback,
            headers={"Cookie": f"codeflow.sign-in-state={sealed}"},
            follow_redirects=False,
        )
    await _refused_without_a_session(auth, response, "longer than it may")


async def test_an_altered_state_cookie_gets_400_and_no_session(auth) -> None:
    async with auth.browser() as browser:
        callback, sealed = await _approved_at_github(auth, browser)
        altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        browser.cookies.clear()
        response = await browser.get(
            callback,
            headers={"Cookie": f"codeflow.sign-in-state={altered}"},
            follow_redirects=False,
        )
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:codeflow:problem:invalid-sign-in-state"
    await _refused_without_a_session(auth, response, "not ours")


async def test_the_state_cookie_carries_no_readable_state_or_landing_place(auth) -> None:
    async with auth.browser() as browser:
        started = await start_sign_in(browser, auth.url, callbackUrl="/somewhere-private")
    sealed = started.cookies["codeflow.sign-in-state"]
    state = httpx.URL(started.headers["location"]).params["state"]
    assert sealed.startswith("v2.")
    payload = sealed.removeprefix("v2.")
    readable = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    for secret_part in (state.encode(), b"somewhere-private"):
        assert secret_part not in sealed.encode()
        assert secret_part not in readable


async def test_githubs_200_with_an_error_for_a_bad_code_gets_a_clear_error_and_no_session(
    auth,
) -> None:
    async with auth.browser() as browser:
        response, _, _ = await _callback_with(auth, browser, code="not-a-code-github-issued")
    assert response.json()["type"] == "urn:codeflow:problem:github-refused"
    await _refused_without_a_session(auth, response, "bad_verification_code")


async def test_a_callback_url_elsewhere_is_refused_before_going_to_github(auth) -> None:
    async with auth.browser() as browser:
        response = await start_sign_in(browser, auth.url, callbackUrl="https://evil.example/")
    assert response.status_code == 400
    assert response.json()["type"] == "urn:codeflow:problem:redirect-refused"


async def test_the_database_holds_no_plaintext_github_token_and_no_usable_session_token(
    auth,
) -> None:
    async with signed_in_browser(auth) as browser:
        cookie = browser.cookies[SESSION_COOKIE]
    stored_access = await scalar(auth.sessions, "SELECT access_token FROM accounts")
    state = auth.settings
    from codeflow_auth.main import token_cipher

    cipher = token_cipher(state)
    plaintext = cipher.decrypt(
        stored_access, purpose="accounts.access_token", row=("github", str(OCTOCAT_GITHUB_ID))
    )
    assert plaintext.startswith("gho_")
    dump = await scalar(
        auth.sessions,
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM accounts) t",
    )
    dump += await scalar(
        auth.sessions, "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM sessions) t"
    )
    assert plaintext not in dump
    assert cookie not in dump
    assert stored_form(cookie) in dump
