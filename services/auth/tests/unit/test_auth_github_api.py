"""Auth's calls to GitHub for a person, against the GitHub stand-in in process: pages from
``Link``, conditional requests, hidden repositories, rate limits, ended grants, a GitHub that
never answers; and the person's token in no answer, error or log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from codeflow_auth.errors import (
    GitHubAccessUnavailable,
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubRepositoryNotFound,
)
from codeflow_auth.github_access.client import GitHubApi
from codeflow_auth.problems import PROBLEMS
from codeflow_github_emulator import EmulatorSettings, create_app
from codeflow_github_emulator.testing import MONALISA_ID
from codeflow_testing.asgi import silent_server

EMULATOR = "http://github.test"
BOYSENBERRY = 132935648
"""octocat's private repository, which monalisa can't see."""
OCTO_REPO = 1296300
"""octo-org's public repository."""


@pytest.fixture
def emulator() -> Starlette:
    return create_app(EmulatorSettings(fixtures=None, auto_login=None))


@pytest.fixture
async def admin(emulator: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=emulator)
    async with httpx2.AsyncClient(transport=transport, base_url=EMULATOR) as client:
        yield client


@pytest.fixture
async def github(emulator: Starlette) -> AsyncIterator[GitHubApi]:
    api = GitHubApi(EMULATOR, transport=httpx2.ASGITransport(app=emulator))
    yield api
    await api.aclose()


async def token_of(admin: httpx2.AsyncClient, login: str, scope: str = "repo read:user") -> str:
    issued = await admin.post("/_emulator/tokens", json={"login": login, "scope": scope})
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["access_token"]
    return token


async def test_a_page_of_repositories_says_the_next_and_last_page_from_githubs_links(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "octocat")

    first = await github.repositories(token, page=1, per_page=3)
    final = await github.repositories(token, page=3, per_page=3)

    assert first.body is not None
    assert final.body is not None
    assert (first.body.next_page, first.body.last_page) == (2, 3)
    assert (final.body.next_page, final.body.last_page) == (None, None)
    assert len(first.body.items) == 3
    names = [item.full_name for item in first.body.items]
    assert names == sorted(names, key=str.lower)
    assert first.etag


async def test_a_repository_reads_as_the_contract_shapes_it(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "private-person")

    answer = await github.repository(token, BOYSENBERRY)

    assert answer.body is not None
    item = answer.body.model_dump()
    assert set(item) == {
        "id",
        "owner",
        "name",
        "full_name",
        "description",
        "visibility",
        "default_branch",
        "pushed_at",
        "stargazers_count",
        "archived",
        "html_url",
    }
    assert item["id"] == BOYSENBERRY
    assert item["owner"] == "octocat"
    assert item["full_name"] == "octocat/boysenberry-repo-1"
    assert item["visibility"] == "private"
    assert isinstance(item["pushed_at"], str)
    assert item["pushed_at"].endswith("Z")


async def test_the_person_sees_the_repositories_of_every_tie_they_have(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "private-person")

    answer = await github.repositories(token, page=1, per_page=100)

    assert answer.body is not None
    owners = {item.owner for item in answer.body.items}
    assert {"private-person", "octocat", "octo-org"} <= owners


async def test_a_tag_github_still_matches_is_answered_not_modified_and_costs_no_budget(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "octocat")
    first = await github.repositories(token, page=1, per_page=30)
    one = await github.repository(token, OCTO_REPO)

    again = await github.repositories(token, page=1, per_page=30, etag=first.etag)
    same = await github.repository(token, OCTO_REPO, etag=one.etag)

    assert again.body is None
    assert again.etag == first.etag
    assert same.body is None
    assert same.etag == one.etag
    counts = (await admin.get("/_emulator/requests")).json()
    assert counts["GET /user/repos"] == {"200": 1, "304": 1}


@pytest.mark.parametrize(
    ("login", "github_id", "deleted"),
    [("monalisa", BOYSENBERRY, False), ("octocat", OCTO_REPO, True)],
    ids=["someone-elses-private-repository", "a-deleted-repository"],
)
async def test_a_repository_github_does_not_show_the_person_is_not_found(
    github: GitHubApi, admin: httpx2.AsyncClient, login: str, github_id: int, deleted: bool
) -> None:
    token = await token_of(admin, login)
    if deleted:
        await admin.delete(f"/_emulator/repos/{github_id}")

    with pytest.raises(GitHubRepositoryNotFound):
        await github.repository(token, github_id)


async def test_an_exhausted_rate_limit_says_when_to_try_again(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "octocat")
    await admin.post("/_emulator/rate-limit", json={"login": "octocat", "remaining": 0})

    with pytest.raises(GitHubRateLimited) as limited:
        await github.repositories(token, page=1, per_page=30)

    assert 1 <= limited.value.retry_after <= 3600


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_rate_limit_says_githubs_retry_after(
    github: GitHubApi, admin: httpx2.AsyncClient, status: int
) -> None:
    token = await token_of(admin, "octocat")
    await admin.post(
        "/_emulator/secondary-rate-limit", json={"requests": 1, "status": status, "retry_after": 42}
    )

    with pytest.raises(GitHubRateLimited) as limited:
        await github.repository(token, OCTO_REPO)

    assert limited.value.retry_after == 42


async def test_a_revoked_token_ends_the_authorization(
    github: GitHubApi, admin: httpx2.AsyncClient
) -> None:
    token = await token_of(admin, "octocat")
    await admin.delete(f"/_emulator/tokens/{token}")

    with pytest.raises(GitHubAuthorizationEnded):
        await github.repositories(token, page=1, per_page=30)


def answering(status: int, body: Any = None, **headers: str) -> httpx2.MockTransport:
    return httpx2.MockTransport(lambda request: httpx2.Response(status, json=body, headers=headers))


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (502, {"message": "Server Error"}, {}),
        (200, {"not": "a list"}, {}),
        (200, [{"id": 1, "name": "no owner"}], {}),
        (403, {"message": "Resource protected by organization SAML enforcement"}, {}),
        (404, {"message": "Not Found"}, {}),
    ],
)
async def test_an_answer_github_does_not_document_is_unavailable(
    status: int, body: Any, headers: dict[str, str]
) -> None:
    api = GitHubApi(EMULATOR, transport=answering(status, body, **headers))

    with pytest.raises(GitHubAccessUnavailable):
        await api.repositories("gho_token", page=1, per_page=30)
    await api.aclose()


async def test_a_connection_refused_is_unavailable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    api = GitHubApi(EMULATOR, transport=httpx2.MockTransport(refuse))

    with pytest.raises(GitHubAccessUnavailable):
        await api.repository("gho_token", OCTO_REPO)
    await api.aclose()


async def test_a_github_that_never_answers_is_unavailable_within_the_timeout() -> None:
    async with silent_server() as url:
        api = GitHubApi(url, connect_timeout=0.2, call_timeout=0.5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(GitHubAccessUnavailable):
            await api.repositories("gho_token", page=1, per_page=30)
        assert loop.time() - started < 3
        await api.aclose()


async def test_the_token_is_in_no_log_line_nor_error(
    github: GitHubApi, admin: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await token_of(admin, "monalisa")
    errors: list[Exception] = []

    await github.repositories(token, page=1, per_page=30)
    for call in (
        github.repository(token, BOYSENBERRY),
        admin.post("/_emulator/rate-limit", json={"login": "monalisa", "remaining": 0}),
        github.repository(token, OCTO_REPO),
        admin.delete(f"/_emulator/users/{MONALISA_ID}/tokens"),  # no token in the admin's URL
        github.repositories(token, page=1, per_page=30),
    ):
        try:
            await call
        except Exception as error:  # every error is looked at below
            errors.append(error)

    assert [type(error) for error in errors] == [
        GitHubRepositoryNotFound,
        GitHubRateLimited,
        GitHubAuthorizationEnded,
    ]
    assert all(token not in repr(error) and token not in str(error) for error in errors)
    calls = [r for r in caplog.records if r.name.startswith("codeflow.auth.github_access")]
    assert len(calls) >= 4
    assert all(token not in r.getMessage() for r in caplog.records)
    warnings = [r for r in calls if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # the rate limit and the ended authorization


async def test_the_problems_of_a_busy_github_say_when_to_try_again() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    limited = await PROBLEMS[GitHubRateLimited].handle(request, GitHubRateLimited(7))
    unavailable = await PROBLEMS[GitHubAccessUnavailable].handle(
        request, GitHubAccessUnavailable("down")
    )

    assert (limited.status_code, limited.headers["retry-after"]) == (503, "7")
    assert (unavailable.status_code, unavailable.headers["retry-after"]) == (503, "30")
    assert b"urn:codeflow:problem:github-rate-limited" in limited.body
    assert b"urn:codeflow:problem:github-unavailable" in unavailable.body
