"""What the gateway's session check hands each service: a JWT for that service alone, and the
admin claim only for the janitor, decided by GitHub's numeric user id, never by login."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from auth_flow_support import execute, scalar, sign_in, signed_in_browser, verify

from codeflow_github_emulator.defaults import OCTOCAT_ID
from codeflow_identity import JwksVerifier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def verified_claims(browser: httpx.AsyncClient, auth_url: str, service: str) -> Any:
    verified = await verify(browser, auth_url, service)
    assert verified.status_code == 200, verified.text
    return jwt.decode(verified.headers["x-auth-token"], options={"verify_signature": False})


async def test_each_service_gets_a_token_for_its_own_audience(auth) -> None:
    async with signed_in_browser(auth) as browser:
        tokens = {
            service: (await verify(browser, auth.url, service)).headers["x-auth-token"]
            for service in ("profiles", "repositories", "janitor")
        }
    jwks = f"{auth.url}/auth/.well-known/jwks.json"
    async with (
        JwksVerifier(jwks, issuer=auth.settings.issuer, audience="codeflow-profiles") as profiles,
        JwksVerifier(jwks, issuer=auth.settings.issuer, audience="codeflow-janitor") as janitor,
    ):
        assert (await profiles.verify(tokens["profiles"])).login == "octocat"
        for other in ("repositories", "janitor"):
            with pytest.raises(Exception, match="audience"):
                await profiles.verify(tokens[other])
        assert (await janitor.verify(tokens["janitor"])).user_id


async def test_verify_without_a_known_service_is_refused(auth) -> None:
    async with signed_in_browser(auth) as browser:
        for params in ({}, {"service": "auth"}, {"service": "elsewhere"}):
            refused = await browser.get(f"{auth.url}/auth/verify", params=params)
            assert refused.status_code == 422, params
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert "x-auth-token" not in refused.headers


async def test_admins_are_decided_by_github_id_and_only_the_janitor_hears_it(start_auth) -> None:
    auth = await start_auth(admin_github_ids=frozenset({OCTOCAT_ID}))
    async with signed_in_browser(auth) as browser:
        assert (await verified_claims(browser, auth.url, "janitor")).get("admin") is True
        assert "admin" not in await verified_claims(browser, auth.url, "repositories")


async def test_a_check_that_records_activity_still_names_the_admin(start_auth) -> None:
    # The check reads on its own connection and gives it back before a write; the admin
    # question is answered either way.
    auth = await start_auth(admin_github_ids=frozenset({OCTOCAT_ID}))
    async with signed_in_browser(auth) as browser:
        await execute(auth.sessions, "UPDATE users SET last_active_at = NULL")
        assert (await verified_claims(browser, auth.url, "janitor")).get("admin") is True
    unrecorded = "SELECT count(*) FROM users WHERE last_active_at IS NULL"
    assert await scalar(auth.sessions, unrecorded) == 0


async def test_a_new_account_with_an_admins_former_login_is_not_an_admin(start_auth) -> None:
    auth = await start_auth(admin_github_ids=frozenset({OCTOCAT_ID}))
    async with httpx.AsyncClient() as github:
        renamed = await github.post(
            f"{auth.emulator_url}/_emulator/users",
            json={"id": OCTOCAT_ID, "login": "octocat-renamed"},
        )
        renamed.raise_for_status()
        squatter = await github.post(
            f"{auth.emulator_url}/_emulator/users",
            json={
                "id": 90_000_001,
                "login": "octocat",
                "name": "Not the admin",
                "emails": [{"email": "newcomer@example.com", "primary": True, "verified": True}],
            },
        )
        squatter.raise_for_status()
    async with auth.browser() as newcomer, auth.browser() as admin:
        landed = await sign_in(newcomer, auth.url, as_login="octocat")
        assert landed.status_code == 200, landed.text
        landed = await sign_in(admin, auth.url, as_login="octocat-renamed")
        assert landed.status_code == 200, landed.text
        newcomers = await verified_claims(newcomer, auth.url, "janitor")
        admins = await verified_claims(admin, auth.url, "janitor")
    assert newcomers["login"] == "octocat"
    assert "admin" not in newcomers
    assert admins["login"] == "octocat-renamed"
    assert admins["admin"] is True
