"""Erasing the account takes a recent sign-in; a session that is older goes on as it was."""

from __future__ import annotations

import pytest
from auth_flow_support import delete_account, execute, scalar, sign_in, signed_in_browser, verify

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DELETION_REQUESTED = "codeflow.user.deletion-requested.v1"


async def signed_in_minutes_ago(auth, minutes: float) -> None:
    await execute(
        auth.sessions,
        "UPDATE sessions SET created_at = (now() AT TIME ZONE 'UTC') - :m * interval '1 minute'",
        m=minutes,
    )


async def test_deleting_my_account_long_after_signing_in_asks_me_to_sign_in_again(
    auth,
) -> None:
    async with signed_in_browser(auth) as browser:
        await signed_in_minutes_ago(auth, 11)
        refused = await delete_account(browser, auth.url)
        still_signed_in = await verify(browser, auth.url)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["cache-control"] == "no-store"
    problem = refused.json()
    assert problem["type"] == "urn:codeflow:problem:reauthentication-required"
    assert "/auth/signin/github" in problem["detail"]
    assert problem["signIn"] == "/auth/signin/github"
    assert problem["maxAge"] == 600
    assert "set-cookie" not in refused.headers
    assert still_signed_in.status_code == 200
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 1
    assert await scalar(auth.sessions, "SELECT count(*) FROM users WHERE login IS NOT NULL") == 1
    assert (
        await scalar(
            auth.sessions,
            "SELECT count(*) FROM outbox WHERE message_type = :t",
            t=DELETION_REQUESTED,
        )
        == 0
    )


async def test_after_signing_in_again_the_account_can_be_deleted(start_auth) -> None:
    auth = await start_auth(reauth_window="PT5M")
    async with signed_in_browser(auth) as browser:
        await signed_in_minutes_ago(auth, 6)
        refused = await delete_account(browser, auth.url)
        assert refused.status_code == 403
        assert refused.json()["maxAge"] == 300

        await sign_in(browser, auth.url)
        deleted = await delete_account(browser, auth.url)
    assert deleted.status_code == 202
    assert (
        await scalar(
            auth.sessions,
            "SELECT count(*) FROM outbox WHERE message_type = :t",
            t=DELETION_REQUESTED,
        )
        == 1
    )
