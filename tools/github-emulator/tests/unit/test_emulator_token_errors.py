"""Refused token requests: HTTP 200 with an ``error``, worded as GitHub words them."""

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from codeflow_github_emulator import EmulatorSettings, ManualClock
from codeflow_github_emulator.testing import (
    CALLBACK,
    Authorize,
    open_authorize,
    register_app,
    request_token,
    s256_challenge,
)

VERIFIER = "a-verifier-of-at-least-forty-three-characters-0123456789"
TOKEN_ERRORS = (
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-oauth-app-access-token-request-errors/"
)


async def exchange(client: httpx.AsyncClient, **fields: str) -> dict[str, Any]:
    response = await request_token(client, **fields)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    return body


def assert_bad_verification_code(body: dict[str, Any]) -> None:
    assert body == {
        "error": "bad_verification_code",
        "error_description": "The code passed is incorrect or expired.",
        "error_uri": f"{TOKEN_ERRORS}#bad-verification-code",
    }


async def test_an_unknown_code_is_a_bad_verification_code(client: httpx.AsyncClient) -> None:
    assert_bad_verification_code(await exchange(client, code="0123456789abcdef0123"))


async def test_a_code_works_only_once(client: httpx.AsyncClient, authorize: Authorize) -> None:
    code = await authorize()
    assert "access_token" in await exchange(client, code=code)
    assert_bad_verification_code(await exchange(client, code=code))


@pytest.mark.parametrize(
    ("settings", "lifetime"),
    [
        (EmulatorSettings(fixtures=None, auto_login=None), 600),
        (EmulatorSettings(fixtures=None, auto_login=None, code_ttl_seconds=5), 5),
    ],
    ids=["ten minutes by default", "as configured"],
)
async def test_a_code_expires_after_its_lifetime(
    client: httpx.AsyncClient, authorize: Authorize, clock: ManualClock, lifetime: int
) -> None:
    fresh = await authorize()
    stale = await authorize()
    clock.advance(lifetime - 1)
    assert "access_token" in await exchange(client, code=fresh)
    clock.advance(1)
    assert_bad_verification_code(await exchange(client, code=stale))


async def test_the_admin_clock_also_expires_codes(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize()
    await client.post("/_emulator/clock", json={"seconds": 600})
    assert_bad_verification_code(await exchange(client, code=code))


async def test_a_wrong_secret_is_incorrect_client_credentials_and_spares_the_code(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize()
    refused = await exchange(client, code=code, client_secret="not-the-secret")
    assert refused == {
        "error": "incorrect_client_credentials",
        "error_description": "The client_id and/or client_secret passed are incorrect.",
        "error_uri": f"{TOKEN_ERRORS}#incorrect-client-credentials",
    }
    assert "access_token" in await exchange(client, code=code)


async def test_an_unknown_client_is_incorrect_client_credentials(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    body = await exchange(client, code=await authorize(), client_id="someone-else")
    assert body["error"] == "incorrect_client_credentials"


async def test_errors_are_form_encoded_with_http_200_by_default(
    client: httpx.AsyncClient,
) -> None:
    response = await request_token(client, accept=None, code="nope")
    assert response.status_code == 200
    assert response.text.startswith(
        "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."
    )
    assert parse_qs(response.text)["error_uri"] == [f"{TOKEN_ERRORS}#bad-verification-code"]


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://127.0.0.1:8000/elsewhere", "https://evil.example/cb"],
    ids=["other than the authorized one", "unregistered"],
)
async def test_a_redirect_uri_other_than_the_authorized_one_or_unregistered_is_a_mismatch(
    client: httpx.AsyncClient, authorize: Authorize, redirect_uri: str
) -> None:
    code = await authorize()
    body = await exchange(client, code=code, redirect_uri=redirect_uri)
    assert body["error"] == "redirect_uri_mismatch"
    assert body["error_description"] == (
        "The redirect_uri MUST match the registered callback URL for this application."
    )


async def test_pkce_with_the_right_verifier_is_accepted(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize(code_challenge=s256_challenge(VERIFIER))
    assert "access_token" in await exchange(client, code=code, code_verifier=VERIFIER)


async def test_pkce_without_a_verifier_is_a_bad_verification_code(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize(code_challenge=s256_challenge(VERIFIER))
    assert_bad_verification_code(await exchange(client, code=code))


async def test_pkce_with_a_wrong_verifier_is_a_bad_verification_code_and_spends_the_code(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize(code_challenge=s256_challenge(VERIFIER))
    assert_bad_verification_code(await exchange(client, code=code, code_verifier=VERIFIER + "x"))
    assert_bad_verification_code(await exchange(client, code=code, code_verifier=VERIFIER))


async def test_a_verifier_for_a_code_issued_without_a_challenge_is_ignored(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize()
    assert "access_token" in await exchange(client, code=code, code_verifier=VERIFIER)


async def test_the_plain_challenge_method_is_refused_at_authorize_as_github_does(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(
        client,
        redirect_uri=CALLBACK,
        login="octocat",
        state="p",
        code_challenge=VERIFIER,
        code_challenge_method="plain",
    )
    assert response.status_code == 302
    assert "error=invalid_request" in response.headers["location"]
    assert "code=" not in response.headers["location"]


@pytest.mark.parametrize("settings", [EmulatorSettings(allow_plain_pkce=True)])
async def test_the_plain_challenge_method_can_be_allowed(client: httpx.AsyncClient) -> None:
    response = await open_authorize(
        client, login="octocat", code_challenge=VERIFIER, code_challenge_method="plain"
    )
    code = response.headers["location"].split("code=")[1]
    assert "access_token" in await exchange(client, code=code, code_verifier=VERIFIER)


async def test_a_malformed_s256_challenge_is_refused_at_authorize(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(
        client, login="octocat", code_challenge="too-short", code_challenge_method="S256"
    )
    assert "error=invalid_request" in response.headers["location"]


async def test_a_user_without_a_verified_primary_email_gets_no_token(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    body = await exchange(client, code=await authorize(login="unverified"))
    assert body == {
        "error": "unverified_user_email",
        "error_description": "The user must have a verified primary email.",
        "error_uri": f"{TOKEN_ERRORS}#unverified-user-email",
    }


@pytest.mark.parametrize("settings", [EmulatorSettings(refuse_unverified_email=False)])
async def test_the_unverified_email_refusal_can_be_switched_off(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    assert "access_token" in await exchange(client, code=await authorize(login="unverified"))


async def test_a_code_of_one_app_cannot_be_exchanged_by_another(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    await register_app(client, "other", "other-s", callback_urls=(CALLBACK,))
    code = await authorize()
    body = await exchange(client, code=code, client_id="other", client_secret="other-s")
    assert body["error"] == "bad_verification_code"
