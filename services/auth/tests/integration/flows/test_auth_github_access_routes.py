"""Auth's internal routes, served for real beside the GitHub stand-in: a person signed in
through the browser flow, and another service calling with the service credential to list
their repositories and read one, with conditional requests, rate limits, an ended grant,
and the token in no answer nor log line."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from auth_flow_support import execute, sign_in

from codeflow_github_emulator.testing import MONALISA_ID, OCTOCAT_ID

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BOYSENBERRY = 132935648
"""octocat's private repository, which monalisa can't see."""
OCTO_REPO = 1296300
PROBLEM = "application/problem+json"

AuthService = Any  # conftest's: the running auth, its emulator and settings
StartAuth = Any


def internal(auth: AuthService) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.settings.internal_token.get_secret_value()}"}


async def signed_in_user(auth: AuthService, login: str) -> str:
    """Sign ``login`` in through the browser flow; their CodeFlow user id."""
    async with auth.browser() as browser:
        landed = await sign_in(browser, auth.url, as_login=login)
    assert landed.status_code == 200, landed.text
    user_id: str = landed.json()["user"]["id"]
    return user_id


async def get(auth: AuthService, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=auth.url, timeout=30) as client:
        return await client.get(path, headers=internal(auth) | headers)


async def emulator(auth: AuthService, method: str, path: str, **body: Any) -> None:
    async with httpx.AsyncClient(base_url=auth.emulator_url) as client:
        answer = await client.request(method, path, json=body or None)
    assert answer.status_code < 300, answer.text


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == f"urn:codeflow:problem:{slug}"


async def test_a_persons_repositories_are_listed_page_by_page(auth: AuthService) -> None:
    user_id = await signed_in_user(auth, "octocat")

    first = await get(auth, f"/internal/github/users/{user_id}/repos?page=1&per_page=2")

    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"items", "next_page", "last_page"}
    assert len(body["items"]) == 2
    assert body["next_page"] == 2
    assert body["last_page"] >= 2
    assert {item["owner"] for item in body["items"]} == {"octocat"}
    assert first.headers["etag"]


async def test_a_tag_github_still_matches_is_answered_304_with_it(auth: AuthService) -> None:
    user_id = await signed_in_user(auth, "octocat")
    listing = f"/internal/github/users/{user_id}/repos"
    one = f"/internal/github/users/{user_id}/repositories/{OCTO_REPO}"
    first, fetched = await get(auth, listing), await get(auth, one)

    again = await get(auth, listing, **{"If-None-Match": first.headers["etag"]})
    same = await get(auth, one, **{"If-None-Match": fetched.headers["etag"]})

    assert (again.status_code, same.status_code) == (304, 304)
    assert again.headers["etag"] == first.headers["etag"]
    assert same.headers["etag"] == fetched.headers["etag"]
    assert again.content == b""
    assert fetched.json()["full_name"] == "octo-org/octo-repo"


async def test_a_repository_someone_else_keeps_private_is_not_found(
    auth: AuthService,
) -> None:
    user_id = await signed_in_user(auth, "monalisa")

    hidden = await get(auth, f"/internal/github/users/{user_id}/repositories/{BOYSENBERRY}")

    assert_problem(hidden, 404, "github-repository-not-found")


async def test_rate_limits_are_503_with_retry_after(auth: AuthService) -> None:
    user_id = await signed_in_user(auth, "octocat")
    path = f"/internal/github/users/{user_id}/repos"

    await emulator(auth, "POST", "/_emulator/secondary-rate-limit", status=429, retry_after=42)
    secondary = await get(auth, path)
    await emulator(auth, "POST", "/_emulator/rate-limit", login="octocat", remaining=0)
    primary = await get(auth, path)

    assert_problem(secondary, 503, "github-rate-limited")
    assert secondary.headers["retry-after"] == "42"
    assert_problem(primary, 503, "github-rate-limited")
    assert 1 <= int(primary.headers["retry-after"]) <= 3600


async def test_a_revoked_grant_asks_the_person_to_sign_in_again(auth: AuthService) -> None:
    user_id = await signed_in_user(auth, "octocat")
    await emulator(auth, "DELETE", f"/_emulator/users/{OCTOCAT_ID}/tokens")

    ended = await get(auth, f"/internal/github/users/{user_id}/repos")

    assert_problem(ended, 401, "github-authorization-ended")
    assert ended.json()["title"] == "GitHub access has ended; sign in again"


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE accounts SET access_token = NULL",
        "UPDATE accounts SET access_token = 'v1.k1.not-a-ciphertext'",
    ],
)
async def test_a_token_auth_cannot_open_asks_the_person_to_sign_in_again(
    auth: AuthService, damage: str
) -> None:
    user_id = await signed_in_user(auth, "octocat")
    await execute(auth.sessions, damage)

    ended = await get(auth, f"/internal/github/users/{user_id}/repos")

    assert_problem(ended, 401, "github-authorization-ended")


async def test_a_user_without_a_github_account_asks_to_sign_in_again(
    auth: AuthService,
) -> None:

    ended = await get(auth, "/internal/github/users/nobody-of-that-id/repos")

    assert_problem(ended, 401, "github-authorization-ended")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-credential", "Basic ZGV2OmRldg==", "Bearer", ""],
)
async def test_a_call_without_the_service_credential_is_refused(
    auth: AuthService, authorization: str | None
) -> None:
    user_id = await signed_in_user(auth, "octocat")
    headers = {} if authorization is None else {"Authorization": authorization}

    async with httpx.AsyncClient(base_url=auth.url) as client:
        listing = await client.get(f"/internal/github/users/{user_id}/repos", headers=headers)
        one = await client.get(
            f"/internal/github/users/{user_id}/repositories/{OCTO_REPO}", headers=headers
        )

    assert_problem(listing, 401, "internal-credential-invalid")
    assert_problem(one, 401, "internal-credential-invalid")


async def test_the_internal_routes_are_not_in_the_openapi_document(
    auth: AuthService,
) -> None:

    async with httpx.AsyncClient(base_url=auth.url) as client:
        document = (await client.get("/auth/openapi.json")).json()

    assert document["paths"]
    assert not [path for path in document["paths"] if "internal" in path]


async def test_the_token_is_in_no_answer_and_no_log_line(
    start_auth: StartAuth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = await start_auth()
    user_id = await signed_in_user(auth, "monalisa")
    async with httpx.AsyncClient(base_url=auth.emulator_url) as client:
        tokens = (await client.get(f"/_emulator/users/{MONALISA_ID}/tokens")).json()["tokens"]
    token = next(t["token"] for t in tokens if t["client_id"] == auth.settings.github_client_id)
    base = f"/internal/github/users/{user_id}"

    answers = [
        await get(auth, f"{base}/repos"),
        await get(auth, f"{base}/repositories/{BOYSENBERRY}"),
        await get(auth, f"{base}/repositories/{OCTO_REPO}"),
    ]
    await emulator(auth, "POST", "/_emulator/rate-limit", login="monalisa", remaining=0)
    answers.append(await get(auth, f"{base}/repos"))
    await emulator(auth, "DELETE", f"/_emulator/users/{MONALISA_ID}/tokens")
    answers.append(await get(auth, f"{base}/repos"))

    assert [a.status_code for a in answers] == [200, 404, 200, 503, 401]
    for answer in answers:
        assert token not in answer.text
        assert token not in str(answer.headers)
    github_calls = [r for r in caplog.records if r.name == "codeflow.auth.github_access"]
    assert len(github_calls) >= 5
    assert all(token not in record.getMessage() for record in caplog.records)
