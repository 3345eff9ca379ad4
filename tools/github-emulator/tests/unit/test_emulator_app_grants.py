"""``DELETE /applications/{client_id}/grant``: an OAuth app revokes a user's grant, as GitHub
documents it (Basic authentication with the app's credentials, the token in a JSON body)."""

from __future__ import annotations

import base64

import httpx

from codeflow_github_emulator.testing import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    OCTOCAT_ID,
    SignIn,
    register_app,
)

GRANT = f"/applications/{DEV_CLIENT_ID}/grant"


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


APP = basic(DEV_CLIENT_ID, DEV_CLIENT_SECRET)


async def revoke(
    client: httpx.AsyncClient, token: str, headers: dict[str, str] = APP, path: str = GRANT
) -> httpx.Response:
    return await client.request("DELETE", path, json={"access_token": token}, headers=headers)


async def user_status(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/user", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_revoking_the_grant_answers_204_and_every_token_of_it_stops_working(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token, other_token_of_the_grant = await sign_in(), await sign_in()
    someone_else = await sign_in("monalisa")
    assert await user_status(client, token) == 200

    response = await revoke(client, token)

    assert response.status_code == 204
    assert response.content == b""
    assert await user_status(client, token) == 401
    assert await user_status(client, other_token_of_the_grant) == 401
    assert await user_status(client, someone_else) == 200


async def test_a_token_already_revoked_or_never_issued_is_404(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()
    assert (await revoke(client, token)).status_code == 204

    again = await revoke(client, token)
    unknown = await revoke(client, "gho_" + "x" * 36)

    assert again.status_code == 404
    assert again.json() == {
        "message": "Not Found",
        "documentation_url": (
            "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization"
        ),
        "status": "404",
    }
    assert unknown.status_code == 404


async def test_bad_or_missing_client_credentials_are_401_and_revoke_nothing(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()

    wrong_secret = await revoke(client, token, headers=basic(DEV_CLIENT_ID, "not-the-secret"))
    another_apps_path = await revoke(client, token, path="/applications/someone-elses-app/grant")
    no_credentials = await revoke(client, token, headers={})
    as_the_user = await revoke(client, token, headers={"Authorization": f"Bearer {token}"})

    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["message"] == "Bad credentials"
    assert another_apps_path.status_code == 401
    assert no_credentials.status_code == 401
    assert no_credentials.json()["message"] == "Requires authentication"
    assert as_the_user.status_code == 401
    assert await user_status(client, token) == 200


async def test_a_token_another_app_was_given_is_404_to_this_app(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    registered = await register_app(client, "other", "other-secret")
    assert registered.status_code == 201
    others = await client.post(
        "/_emulator/tokens", json={"login": "octocat", "scope": "", "client_id": "other"}
    )
    token = others.json()["access_token"]

    response = await revoke(client, token)

    assert response.status_code == 404
    assert await user_status(client, token) == 200


async def test_a_request_without_an_access_token_is_422(client: httpx.AsyncClient) -> None:
    no_body = await client.request("DELETE", GRANT, headers=APP)
    empty = await client.request("DELETE", GRANT, json={}, headers=APP)
    assert no_body.status_code == 422
    assert empty.status_code == 422
    assert "access_token" in empty.json()["message"]


async def test_the_admin_api_lists_a_users_live_tokens(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in()
    listed = (await client.get(f"/_emulator/users/{OCTOCAT_ID}/tokens")).json()
    assert listed == {
        "tokens": [
            {"token": token, "client_id": DEV_CLIENT_ID, "scopes": ["read:user", "user:email"]}
        ]
    }

    await revoke(client, token)

    assert (await client.get(f"/_emulator/users/{OCTOCAT_ID}/tokens")).json() == {"tokens": []}
