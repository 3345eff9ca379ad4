"""The client of auth's internal GitHub route: GitHub's answers and refusals, as domain errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.github import (
    GitHub,
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubUnavailable,
    NotOnGitHub,
)
from codeflow_testing.github_route import TOKEN, GitHubDouble, repository

USER = "user1"


def settings(token: str = TOKEN) -> RepositoriesSettings:
    return RepositoriesSettings(
        environment="test", auth_internal_url="http://auth", auth_internal_token=token
    )


@pytest.fixture
def double() -> GitHubDouble:
    return GitHubDouble()


@pytest.fixture
async def github(double: GitHubDouble) -> AsyncIterator[GitHub]:
    async with GitHub.connect(settings(), transport=httpx.ASGITransport(double.app)) as client:
        yield client


async def test_a_repository_comes_with_its_etag_and_a_second_read_is_a_304(
    github: GitHub, double: GitHubDouble
) -> None:
    [repo] = double.add(USER, repository(name="hello", stargazers_count=3))

    first = await github.repository(USER, repo["id"])
    second = await github.repository(USER, repo["id"], etag=first.etag)

    assert first.repository is not None
    assert (first.repository.full_name, first.repository.stargazers_count) == ("octocat/hello", 3)
    assert first.etag
    assert (second.repository, second.etag) == (None, first.etag)


async def test_a_repository_the_person_cannot_see_is_not_on_github(
    github: GitHub, double: GitHubDouble
) -> None:
    [theirs] = double.add("someone-else", repository(visibility="private"))

    with pytest.raises(NotOnGitHub) as caught:
        await github.repository(USER, theirs["id"])
    assert caught.value.github_id == theirs["id"]


async def test_a_page_of_repositories_says_which_pages_follow(
    github: GitHub, double: GitHubDouble
) -> None:
    double.add(USER, *(repository(name=f"r{n}") for n in range(5)))

    first = await github.repositories(USER, page=1, per_page=2)
    last = await github.repositories(USER, page=3, per_page=2)

    assert [r.name for r in first.items] == ["r0", "r1"]
    assert (first.next_page, first.last_page) == (2, 3)
    assert ([r.name for r in last.items], last.next_page) == (["r4"], None)


async def test_a_spent_rate_limit_says_when_to_retry(github: GitHub, double: GitHubDouble) -> None:
    double.rate_limited = 1234

    with pytest.raises(GitHubRateLimited) as caught:
        await github.repositories(USER, page=1, per_page=30)
    assert caught.value.retry_after == 1234


async def test_an_ended_authorization_asks_the_person_to_sign_in_again(
    github: GitHub, double: GitHubDouble
) -> None:
    double.ended.add(USER)

    with pytest.raises(GitHubAuthorizationEnded, match="sign in with GitHub again"):
        await github.repository(USER, 1)


async def test_an_unreachable_github_is_unavailable_with_a_retry_after(
    github: GitHub, double: GitHubDouble
) -> None:
    double.unavailable = True

    with pytest.raises(GitHubUnavailable) as caught:
        await github.repository(USER, 1)
    assert caught.value.retry_after == 30


async def test_a_credential_auth_refuses_is_unavailable_and_logged_as_misconfiguration(
    double: GitHubDouble, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(double.app)
    async with GitHub.connect(settings("wrong-" + TOKEN), transport=transport) as github:
        with caplog.at_level(logging.ERROR), pytest.raises(GitHubUnavailable):
            await github.repository(USER, 1)

    assert "REPOSITORIES_AUTH_INTERNAL_TOKEN must equal auth's AUTH_INTERNAL_TOKEN" in caplog.text


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")], ids=["timeout", "down"]
)
async def test_auth_not_answering_is_unavailable(failure: httpx.TransportError) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    async with GitHub.connect(settings(), transport=httpx.MockTransport(fail)) as github:
        with pytest.raises(GitHubUnavailable):
            await github.repositories(USER, page=1, per_page=30)


async def test_an_answer_not_in_githubs_shape_is_unavailable() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "nope"}))
    async with GitHub.connect(settings(), transport=transport) as github:
        with pytest.raises(GitHubUnavailable):
            await github.repository(USER, 1)


async def test_every_call_has_a_timeout() -> None:
    seen: list[dict[str, float | None]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(404)

    async with GitHub.connect(settings(), transport=httpx.MockTransport(record)) as github:
        with pytest.raises(NotOnGitHub):
            await github.repository(USER, 1)

    assert seen == [{"connect": 3.0, "read": 12.0, "write": 12.0, "pool": 12.0}]
