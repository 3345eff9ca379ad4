"""The browser half and the happy paths of the token exchange."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from codeflow_github_emulator import EmulatorSettings, ManualClock, create_app
from codeflow_github_emulator.testing import (
    CALLBACK,
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    Authorize,
    open_authorize,
    redirect_query,
    register_app,
    request_token,
)


async def test_a_full_sign_in_leads_from_authorize_to_token_to_the_user(
    client: httpx.AsyncClient,
) -> None:
    authorized = await open_authorize(
        client, redirect_uri=CALLBACK, state="xyz", scope="read:user user:email", login="octocat"
    )
    assert authorized.status_code == 302
    assert authorized.headers["location"].startswith(f"{CALLBACK}?code=")
    query = redirect_query(authorized.headers["location"])
    assert query["state"] == "xyz"
    assert re.fullmatch(r"[0-9a-f]{20}", query["code"])

    exchanged = await request_token(client, code=query["code"], redirect_uri=CALLBACK)
    body = exchanged.json()
    assert exchanged.status_code == 200
    assert set(body) == {"access_token", "scope", "token_type"}
    assert re.fullmatch(r"gho_[A-Za-z0-9]{36}", body["access_token"])
    assert body["scope"] == "read:user,user:email"
    assert body["token_type"] == "bearer"

    me = await client.get("/user", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["login"] == "octocat"
    assert me.json()["id"] == 583231


async def test_the_token_answer_is_form_encoded_unless_json_is_asked_for(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    code = await authorize()
    response = await request_token(client, accept=None, code=code)
    assert response.headers["content-type"].startswith("application/x-www-form-urlencoded")
    fields = parse_qs(response.text)
    assert fields["access_token"][0].startswith("gho_")
    assert fields["scope"] == ["read:user,user:email"]
    assert fields["token_type"] == ["bearer"]


async def test_the_token_answer_can_be_xml(client: httpx.AsyncClient, authorize: Authorize) -> None:
    code = await authorize()
    response = await request_token(client, accept="application/xml", code=code)
    assert response.headers["content-type"].startswith("application/xml")
    assert re.fullmatch(
        r"<OAuth><access_token>gho_\w{36}</access_token><scope>read:user,user:email</scope>"
        r"<token_type>bearer</token_type></OAuth>",
        response.text,
    )


@pytest.mark.parametrize(
    "carried",
    [
        lambda code: {
            "json": {"code": code, "redirect_uri": CALLBACK},
            "auth": (DEV_CLIENT_ID, DEV_CLIENT_SECRET),
        },
        lambda code: {
            "params": {"client_id": DEV_CLIENT_ID, "client_secret": DEV_CLIENT_SECRET, "code": code}
        },
    ],
    ids=["a json body and basic client credentials", "parameters in the query string"],
)
async def test_the_token_endpoint_also_takes_its_parameters_outside_a_form_body(
    client: httpx.AsyncClient, authorize: Authorize, carried: Callable[[str], dict[str, Any]]
) -> None:
    code = await authorize()
    response = await client.post(
        "/login/oauth/access_token", headers={"Accept": "application/json"}, **carried(code)
    )
    assert response.json()["access_token"].startswith("gho_")


async def test_without_a_known_login_the_user_picks_an_account_on_a_page(
    client: httpx.AsyncClient,
) -> None:
    params = {"client_id": DEV_CLIENT_ID, "redirect_uri": CALLBACK, "state": "s1"}
    page = await client.get("/login/oauth/authorize", params=params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for login in ("octocat", "private-person", "unverified", "monalisa"):
        assert f"Authorize as {login}" in page.text
    assert "Cancel" in page.text

    chosen = await client.post("/login/oauth/authorize", data=params | {"login": "monalisa"})
    assert chosen.status_code == 302
    assert redirect_query(chosen.headers["location"])["state"] == "s1"
    assert "code" in redirect_query(chosen.headers["location"])


async def test_cancelling_redirects_with_access_denied_and_the_state(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/login/oauth/authorize",
        data={
            "client_id": DEV_CLIENT_ID,
            "redirect_uri": CALLBACK,
            "state": "s2",
            "error": "access_denied",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(CALLBACK)
    query = redirect_query(response.headers["location"])
    assert query["error"] == "access_denied"
    assert query["error_description"] == "The user has denied your application access."
    assert query["error_uri"].endswith("#access-denied")
    assert query["state"] == "s2"
    assert "code" not in query


async def test_an_unknown_login_shows_the_picker_instead_of_signing_in(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(client, login="nobody-here")
    assert response.status_code == 200
    assert "Authorize as octocat" in response.text


@pytest.mark.parametrize("settings", [EmulatorSettings(auto_login="private-person")])
async def test_the_auto_login_user_is_signed_in_without_a_page(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(client, state="s3")
    assert response.status_code == 302
    assert "code" in redirect_query(response.headers["location"])


@pytest.mark.parametrize("settings", [EmulatorSettings(auto_login="private-person")])
async def test_prompt_select_account_shows_the_picker_even_with_an_auto_login_user(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(client, prompt="select_account")
    assert response.status_code == 200


async def test_without_a_redirect_uri_the_first_registered_callback_is_used(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(client, login="octocat")
    assert response.headers["location"].startswith("http://127.0.0.1/?code=")


async def test_an_unknown_client_gets_a_404_page_and_no_redirect(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(
        client, client_id="no-such-app", redirect_uri=CALLBACK, login="octocat"
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers


async def test_a_foreign_redirect_uri_is_refused_at_the_registered_callback(
    client: httpx.AsyncClient,
) -> None:
    response = await open_authorize(
        client, redirect_uri="https://evil.example/callback", state="s4", login="octocat"
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1/?")
    query = redirect_query(location)
    assert query["error"] == "redirect_uri_mismatch"
    assert query["error_description"] == (
        "The redirect_uri MUST match the registered callback URL for this application."
    )
    assert query["state"] == "s4"
    assert "code" not in query


async def test_a_redirect_uri_keeps_its_own_query_when_the_code_is_added(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    response = await open_authorize(
        client, redirect_uri=f"{CALLBACK}?next=%2Fdashboard", login="octocat"
    )
    query = redirect_query(response.headers["location"])
    assert query["next"] == "/dashboard"
    assert "code" in query


async def test_an_app_that_expires_tokens_gets_refresh_tokens_that_can_be_used_once(
    client: httpx.AsyncClient, authorize: Authorize
) -> None:
    registered = await register_app(
        client, "expiring-app", "expiring-secret", expire_user_tokens=True
    )
    assert registered.status_code == 201
    authorized = await open_authorize(client, client_id="expiring-app", login="octocat")
    code = redirect_query(authorized.headers["location"])["code"]
    credentials = {"client_id": "expiring-app", "client_secret": "expiring-secret"}
    first = await request_token(client, **credentials, code=code)
    tokens = first.json()
    assert tokens["expires_in"] == 28800
    assert tokens["refresh_token_expires_in"] == 15897600
    assert re.fullmatch(r"ghr_[A-Za-z0-9]{76}", tokens["refresh_token"])

    refresh = credentials | {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
    }
    renewed = await request_token(client, **refresh)
    assert renewed.json()["access_token"] != tokens["access_token"]
    again = await request_token(client, **refresh)
    assert again.json()["error"] == "bad_refresh_token"


async def test_an_expiring_access_token_stops_working_when_its_lifetime_is_over(
    clock: ManualClock,
) -> None:
    app = create_app(EmulatorSettings(access_token_ttl_seconds=60), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await register_app(client, "short", "s", expire_user_tokens=True)
        issued = await client.post(
            "/_emulator/tokens", json={"login": "octocat", "client_id": "short"}
        )
        headers = {"Authorization": f"token {issued.json()['access_token']}"}
        assert (await client.get("/user", headers=headers)).status_code == 200
        clock.advance(61)
        assert (await client.get("/user", headers=headers)).status_code == 401
