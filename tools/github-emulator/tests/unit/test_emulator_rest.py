"""The REST API: shapes, scopes, errors, headers and pagination as GitHub serves them."""

import re

import httpx
import pytest

from codeflow_github_emulator import EmulatorSettings
from codeflow_github_emulator.testing import BAD_CREDENTIALS, SignIn, bearer


async def test_the_user_has_githubs_private_user_shape(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get("/user", headers=bearer(await sign_in()))
    user = response.json()
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert user["login"] == "octocat"
    assert user["id"] == 583231
    assert user["node_id"] == "MDQ6VXNlcjU4MzIzMQ=="
    assert user["type"] == "User"
    assert user["site_admin"] is False
    assert user["name"] == "The Octocat"
    assert user["email"] == "octocat@github.com"
    assert user["html_url"] == "http://127.0.0.1:9000/octocat"
    assert user["url"] == "http://127.0.0.1:9000/users/octocat"
    assert user["created_at"] == "2011-01-25T18:44:36Z"
    assert user["public_repos"] == 7
    assert user["total_private_repos"] == 1
    assert user["two_factor_authentication"] is True
    assert {"avatar_url", "company", "blog", "location", "bio", "followers", "plan"} <= set(user)


async def test_a_user_who_keeps_their_email_private_has_a_null_email(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("private-person")
    user = (await client.get("/user", headers=bearer(token))).json()
    assert user["email"] is None
    assert user["id"] == 3_000_000_007
    emails = (await client.get("/user/emails", headers=bearer(token))).json()
    assert emails[0] == {
        "email": "private.person@example.com",
        "primary": True,
        "verified": True,
        "visibility": "private",
    }
    assert emails[1]["email"] == "3000000007+private-person@users.noreply.github.com"
    assert emails[1]["visibility"] is None


async def test_the_public_email_need_not_be_the_primary_one(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    token = await sign_in("monalisa")
    assert (await client.get("/user", headers=bearer(token))).json()["email"] == (
        "mona@public.example.com"
    )
    emails = (await client.get("/user/emails", headers=bearer(token))).json()
    primary = [row for row in emails if row["primary"]]
    assert [row["email"] for row in primary] == ["mona@work.example.com"]


async def test_the_unverified_users_primary_email_is_unverified(
    client: httpx.AsyncClient,
) -> None:
    issued = await client.post(
        "/_emulator/tokens", json={"login": "unverified", "scope": "user:email"}
    )
    token = issued.json()["access_token"]
    emails = (await client.get("/user/emails", headers=bearer(token))).json()
    assert [(row["primary"], row["verified"]) for row in emails] == [(True, False), (False, True)]


async def test_emails_without_the_user_email_scope_are_not_found(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get("/user/emails", headers=bearer(await sign_in(scope="read:user")))
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.json()["status"] == "404"


async def test_the_user_scope_also_grants_the_emails(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get("/user/emails", headers=bearer(await sign_in(scope="user")))
    assert response.status_code == 200
    assert response.headers["X-Accepted-OAuth-Scopes"] == "user, user:email"


async def test_without_a_profile_scope_the_user_has_the_public_shape(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    user = (await client.get("/user", headers=bearer(await sign_in(scope="")))).json()
    assert user["login"] == "octocat"
    assert "plan" not in user
    assert "total_private_repos" not in user


async def test_a_bad_token_is_bad_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/user", headers=bearer("gho_" + "x" * 36))
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
    assert response.headers["X-RateLimit-Limit"] == "60"


async def test_no_token_at_all_requires_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get("/user")
    assert response.status_code == 401
    assert response.json()["message"] == "Requires authentication"
    assert response.json()["status"] == "401"


@pytest.mark.parametrize("scheme", ["token", "Bearer", "bearer"])
async def test_both_authorization_schemes_are_accepted(
    client: httpx.AsyncClient, sign_in: SignIn, scheme: str
) -> None:
    token = await sign_in()
    response = await client.get("/user", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200


async def test_a_token_can_also_be_sent_as_a_basic_password(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.get("/user", auth=("octocat", await sign_in()))
    assert response.status_code == 200


async def test_answers_carry_githubs_headers(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    response = await client.get("/user", headers=bearer(await sign_in()))
    headers = response.headers
    assert headers["X-GitHub-Media-Type"] == "github.v3; format=json"
    assert headers["X-OAuth-Scopes"] == "read:user, user:email"
    assert headers["X-Accepted-OAuth-Scopes"] == ""
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Remaining"] == "4999"
    assert headers["X-RateLimit-Used"] == "1"
    assert headers["X-RateLimit-Resource"] == "core"
    assert re.fullmatch(r"\d+", headers["X-RateLimit-Reset"])


@pytest.mark.parametrize("settings", [EmulatorSettings(rate_limit=2)])
async def test_past_the_rate_limit_requests_are_forbidden(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    for _ in range(2):
        assert (await client.get("/user", headers=headers)).status_code == 200
    refused = await client.get("/user", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID 583231")
    assert refused.headers["X-RateLimit-Remaining"] == "0"


async def test_an_unsupported_api_version_is_a_bad_request(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in()) | {"X-GitHub-Api-Version": "2001-01-01"}
    response = await client.get("/user", headers=headers)
    assert response.status_code == 400
    assert response.json()["message"] == "API version 2001-01-01 is not supported."


async def test_an_unknown_api_path_is_a_json_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/endpoint")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


async def test_anyone_can_read_a_public_profile_by_login_or_id(
    client: httpx.AsyncClient,
) -> None:
    by_login = await client.get("/users/OctoCat")
    by_id = await client.get("/user/583231")
    assert by_login.json()["login"] == "octocat"
    assert by_id.json() == by_login.json()
    assert (await client.get("/users/nobody-at-all")).status_code == 404
