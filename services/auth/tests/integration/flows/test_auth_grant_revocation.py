"""CodeFlow's grant at GitHub ends with the account: ``DELETE /auth/me`` and an erasure each
revoke it (``DELETE /applications/{client_id}/grant``) once their transaction commits, and
neither waits for GitHub, nor fails when it is down, nor logs the token."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from auth_flow_support import delete_account, scalar, sign_in, signed_in_browser
from sqlalchemy import text

from codeflow_auth.deletion import ActivityEvidence, carry_out_deletions
from codeflow_auth.main import token_cipher
from codeflow_auth.revocation import GrantRevoker
from codeflow_auth.signin import service as signin_service
from codeflow_auth.signin.github import GitHubProfile, GitHubTokens
from codeflow_auth.token_cipher import TokenCipher, generate_key
from codeflow_contracts import DeleteUserData
from codeflow_messaging import SessionFactory, transaction
from codeflow_testing.asgi import reserve_port
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

OCTOCAT_GITHUB_ID = 583231
EVIDENCE = ActivityEvidence(activity_interval=timedelta(hours=1))


async def github_token_of(auth) -> str:  # type: ignore[no-untyped-def]
    """The token GitHub (the emulator) holds for CodeFlow's grant of octocat."""
    async with httpx.AsyncClient() as client:
        listed = await client.get(f"{auth.emulator_url}/_emulator/users/{OCTOCAT_GITHUB_ID}/tokens")
    ours = [
        t["token"]
        for t in listed.json()["tokens"]
        if t["client_id"] == auth.settings.github_client_id
    ]
    assert len(ours) == 1, listed.json()
    return str(ours[0])


async def works_at_github(auth, token: str) -> bool:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{auth.emulator_url}/user", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def erasure(user_id: str) -> list[DeleteUserData]:
    command = DeleteUserData(
        deletion_id=uuid.uuid4(),
        user_id=user_id,
        reason="requested",
        requested_at=datetime.now(UTC),
    )
    return [command]


async def octocat_signed_in(auth) -> tuple[str, str, GrantRevoker]:  # type: ignore[no-untyped-def]
    """Octocat signed in through a browser: their user id, the token GitHub holds for the
    grant, and a revoker built as auth builds its own."""
    async with auth.browser() as browser:
        user_id: str = (await sign_in(browser, auth.url)).json()["user"]["id"]
    token = await github_token_of(auth)
    return user_id, token, GrantRevoker.from_settings(auth.settings, token_cipher(auth.settings))


async def test_deleting_my_account_revokes_codeflows_grant_at_github(auth) -> None:
    async with signed_in_browser(auth) as browser:
        token = await github_token_of(auth)
        assert await works_at_github(auth, token)

        deleted = await delete_account(browser, auth.url)

    assert deleted.status_code == 202

    async def revoked() -> bool:
        return not await works_at_github(auth, token)

    await wait_until(revoked, timeout=15, what="the GitHub token to stop working")


async def test_an_erasure_revokes_the_erased_accounts_grant_once_it_commits(auth) -> None:
    user_id, token, revoker = await octocat_signed_in(auth)

    async with transaction(auth.sessions) as s:
        await carry_out_deletions(s, erasure(user_id), EVIDENCE, revoker)
        assert await works_at_github(auth, token)  # not before the commit
    await revoker.settled()

    assert not await works_at_github(auth, token)
    assert await scalar(auth.sessions, "SELECT count(*) FROM users") == 0


async def test_an_erasure_that_rolls_back_revokes_nothing(auth) -> None:
    user_id, token, revoker = await octocat_signed_in(auth)

    async def erase_then_fail() -> None:
        async with transaction(auth.sessions) as s:
            await carry_out_deletions(s, erasure(user_id), EVIDENCE, revoker)
            raise RuntimeError("the transaction fails after the erasure")

    with pytest.raises(RuntimeError):
        await erase_then_fail()
    await revoker.settled()

    assert await works_at_github(auth, token)
    assert await scalar(auth.sessions, "SELECT count(*) FROM users") == 1


CIPHER = TokenCipher.from_config(f"k1:{generate_key()}")


async def signed_in(sessions: SessionFactory, github_id: int, access_token: str) -> str:
    profile = GitHubProfile(
        id=github_id, login=f"u{github_id}", name=None, email=None, avatar_url=None
    )
    tokens = GitHubTokens(access_token=access_token, token_type="bearer", scope="read:user")
    async with transaction(sessions) as s:
        signed = await signin_service.sign_in(
            s, profile, tokens, cipher=CIPHER, session_max_age=timedelta(days=1)
        )
    return signed.user.id


async def test_github_down_neither_holds_up_nor_fails_the_erasure_and_no_token_is_logged(
    auth_sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = await signed_in(auth_sessions, 101, "gho_must_never_be_logged")
    closed = reserve_port()  # bound, never listening: connections are refused
    revoker = GrantRevoker(
        api_url=f"http://127.0.0.1:{closed.getsockname()[1]}",
        client_id="codeflow-test-client",
        client_secret="codeflow-test-secret",
        cipher=CIPHER,
        timeout=2.0,
    )
    caplog.set_level(logging.INFO, logger="codeflow.auth")

    async with transaction(auth_sessions) as s:
        await carry_out_deletions(s, erasure(user_id), EVIDENCE, revoker)
    await revoker.settled()
    closed.close()

    assert await scalar(auth_sessions, "SELECT count(*) FROM users") == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"could not revoke the GitHub grant of user {user_id}" in r.getMessage() for r in warnings
    )
    assert "gho_must_never_be_logged" not in caplog.text


async def test_a_token_that_does_not_decrypt_is_logged_and_the_erasure_goes_ahead(
    auth_sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await signed_in(auth_sessions, 101, "gho_ada")
    eve = await signed_in(auth_sessions, 202, "gho_eve")
    async with transaction(auth_sessions) as s:
        await s.execute(
            text(
                "UPDATE accounts SET access_token = (SELECT access_token FROM accounts"
                " WHERE provider_account_id = '101') WHERE provider_account_id = '202'"
            )
        )
    revoker = GrantRevoker(
        api_url="http://127.0.0.1:9", client_id="c", client_secret="s", cipher=CIPHER
    )
    caplog.set_level(logging.INFO, logger="codeflow.auth")

    async with transaction(auth_sessions) as s:
        await carry_out_deletions(s, erasure(eve), EVIDENCE, revoker)
    await revoker.settled()

    assert await scalar(auth_sessions, "SELECT count(*) FROM users WHERE id = :id", id=eve) == 0
    assert f"the GitHub token of user {eve} does not decrypt" in caplog.text
    assert "gho_ada" not in caplog.text
