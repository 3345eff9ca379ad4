"""Monitoring by GitHub id, the list of one's GitHub repositories, and the refresh: GitHub
(through auth's internal route) says what a repository is called and whether one may see it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from repositories_support import GITHUB, outbox_events, rows_of, scalar
from sqlalchemy import text

from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.github import GitHub
from codeflow_repositories.repositories.refresh import Counts, refresh_due
from codeflow_testing.github_route import TOKEN, GitHubDouble
from codeflow_testing.github_route import repository as github_repository

pytestmark = pytest.mark.integration


@pytest.fixture
def github() -> Iterator[GitHubDouble]:
    """The session's GitHub, put back to answering normally after the test."""
    yield GITHUB
    GITHUB.rate_limited, GITHUB.unavailable = None, False


async def test_monitoring_by_id_stores_what_github_says(user, client, github) -> None:
    [repo] = github.add(
        user,
        github_repository(
            owner="octo-org",
            name="Hello-World",
            description="My first repository",
            visibility="private",
            default_branch="trunk",
            stargazers_count=80,
        ),
    )
    created = await client.post("/repositories", json={"github_id": repo["id"]})
    dashboard = (await client.get("/repositories")).json()["items"]

    assert created.status_code == 201
    answer = created.json()
    assert {k: answer[k] for k in ("owner", "name", "full_name")} == {
        "owner": "octo-org",
        "name": "Hello-World",
        "full_name": "octo-org/Hello-World",
    }
    assert (answer["description"], answer["visibility"], answer["default_branch"]) == (
        "My first repository",
        "private",
        "trunk",
    )
    assert (answer["stargazers_count"], answer["github_state"]) == (80, "available")
    assert answer["pushed_at"] == "2026-12-01T10:00:00Z"
    assert answer["refreshed_at"] is not None
    assert [item["full_name"] for item in dashboard] == ["octo-org/Hello-World"]


async def test_a_repository_the_person_cannot_see_is_a_404_and_nothing_is_stored(
    repositories_service, user, client, github
) -> None:
    [private] = github.add("someone-else", github_repository(visibility="private"))
    answer = await client.post("/repositories", json={"github_id": private["id"]})
    bulk = await client.post(
        "/repositories/bulk",
        json={"items": [{"action": "monitor", "github_id": private["id"]}]},
    )

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:codeflow:problem:repository-not-found"
    assert str(private["id"]) in answer.json()["detail"]
    assert bulk.status_code == 422
    assert (bulk.json()["index"], bulk.json()["reason"]) == (0, "repository-not-found")
    assert await rows_of(repositories_service.sessions, user) == {}
    assert await outbox_events(repositories_service.sessions, user) == []


@pytest.mark.parametrize(
    ("fault", "status", "kind", "retry_after"),
    [
        ("rate_limited", 503, "github-rate-limited", "1800"),
        ("unavailable", 503, "github-unavailable", "30"),
        ("ended", 401, "github-authorization-ended", None),
    ],
)
async def test_githubs_refusals_are_problems_that_say_what_to_do(
    repositories_service, user, client, github, fault, status, kind, retry_after
) -> None:
    [repo] = github.add(user, github_repository())
    if fault == "rate_limited":
        github.rate_limited = 1800
    elif fault == "unavailable":
        github.unavailable = True
    else:
        github.ended.add(user)
    answers = [
        await client.post("/repositories", json={"github_id": repo["id"]}),
        await client.post(
            "/repositories/bulk",
            json={"items": [{"action": "monitor", "github_id": repo["id"]}]},
        ),
        await client.get("/repositories/available"),
    ]

    for answer in answers:
        assert answer.status_code == status, answer.text
        assert answer.json()["type"] == f"urn:codeflow:problem:{kind}"
        assert answer.headers.get("retry-after") == retry_after
    if fault == "ended":
        assert "sign in" in answers[0].json()["title"]
    assert await rows_of(repositories_service.sessions, user) == {}


async def test_the_available_list_pages_as_github_does_and_marks_what_is_monitored(
    user, client, github
) -> None:
    repos = github.add(user, *(github_repository(name=f"r{n}") for n in range(5)))
    await client.post("/repositories", json={"github_id": repos[1]["id"]})
    first = await client.get("/repositories/available", params={"per_page": 2})
    second = await client.get("/repositories/available", params={"per_page": 2, "page": 2})
    last = await client.get("/repositories/available", params={"per_page": 2, "page": 3})

    body = first.json()
    assert [(i["name"], i["monitored"]) for i in body["items"]] == [("r0", False), ("r1", True)]
    assert (body["page"], body["next_page"], body["last_page"]) == (1, 2, 3)
    assert first.headers["link"] == (
        '<available?per_page=2&page=2>; rel="next", <available?per_page=2&page=3>; rel="last"'
    )
    assert second.headers["link"] == (
        '<available?per_page=2&page=1>; rel="first", <available?per_page=2&page=1>; rel="prev", '
        '<available?per_page=2&page=3>; rel="next", <available?per_page=2&page=3>; rel="last"'
    )
    assert [i["name"] for i in last.json()["items"]] == ["r4"]
    assert last.json()["next_page"] is None


async def test_the_available_list_is_searchable_by_name(user, client, github) -> None:
    github.add(
        user,
        github_repository(name="api-server"),
        github_repository(name="web"),
        github_repository(name="API-client"),
    )
    found = await client.get("/repositories/available", params={"q": "api", "per_page": 1})

    body = found.json()
    assert [i["name"] for i in body["items"]] == ["API-client"]
    assert (body["next_page"], body["last_page"]) == (2, 2)
    assert found.headers["link"].startswith('<available?q=api&per_page=1&page=2>; rel="next"')


async def test_a_refresh_brings_renames_and_marks_what_github_no_longer_shows(
    repositories_service, user, client, github
) -> None:
    renamed, deleted, hidden, same = github.add(user, *(github_repository() for _ in range(4)))
    for repo in (renamed, deleted, hidden, same):
        await client.post("/repositories", json={"github_id": repo["id"]})
    events_before = await outbox_events(repositories_service.sessions, user)
    github.rename(renamed["id"], "new-name")
    github.delete(deleted["id"])
    github.visible[user].remove(hidden["id"])
    hidden["visibility"] = "private"
    counts = await client.post("/repositories/refresh")
    dashboard = (await client.get("/repositories")).json()["items"]

    assert counts.status_code == 200
    assert counts.json() == {"refreshed": 1, "unchanged": 1, "unavailable": 2}
    states = {item["github_id"]: (item["full_name"], item["github_state"]) for item in dashboard}
    assert states == {
        renamed["id"]: ("octocat/new-name", "available"),
        deleted["id"]: (deleted["full_name"], "unavailable"),
        hidden["id"]: (hidden["full_name"], "unavailable"),
        same["id"]: (same["full_name"], "available"),
    }
    # A rename changes no monitoring: no event.
    assert await outbox_events(repositories_service.sessions, user) == events_before


async def test_a_second_refresh_asks_with_the_etag_and_gets_304s(user, client, github) -> None:
    [repo] = github.add(user, github_repository())
    path = f"/internal/github/users/{user}/repositories/{repo['id']}"
    await client.post("/repositories", json={"github_id": repo["id"]})
    first = (await client.post("/repositories/refresh")).json()
    second = (await client.post("/repositories/refresh")).json()

    assert first == second == {"refreshed": 0, "unchanged": 1, "unavailable": 0}
    asked = [(etag is not None, status) for p, etag, status in github.asked if p == path]
    assert asked == [(False, 200), (True, 304), (True, 304)]


async def test_a_refresh_github_refuses_changes_nothing(
    repositories_service, user, client, github
) -> None:
    [repo] = github.add(user, github_repository())
    await client.post("/repositories", json={"github_id": repo["id"]})
    before = await rows_of(repositories_service.sessions, user)
    github.rename(repo["id"], "renamed")
    github.rate_limited = 60
    answer = await client.post("/repositories/refresh")

    assert (answer.status_code, answer.headers["retry-after"]) == (503, "60")
    assert await rows_of(repositories_service.sessions, user) == before


async def test_the_scheduled_refresh_takes_the_rows_not_asked_about_for_longest(
    repositories_service, new_user, github
) -> None:
    user = new_user()
    stale, fresh = github.add(user, github_repository(), github_repository())
    async with repositories_service.client_for(user) as client:
        for repo in (stale, fresh):
            await client.post("/repositories", json={"github_id": repo["id"]})
    long_ago = datetime.now(UTC) - timedelta(days=400)
    async with repositories_service.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE repositories SET refreshed_at = :t WHERE github_id = :g"),
            {"t": long_ago, "g": stale["id"]},
        )
    fresh_name = fresh["full_name"]
    github.rename(stale["id"], "stale-renamed")
    github.rename(fresh["id"], "fresh-renamed")
    settings = RepositoriesSettings(
        environment="test",
        auth_internal_url=repositories_service.github_url,
        auth_internal_token=TOKEN,
    )

    async def one_round() -> Counts:
        return await refresh_due(
            repositories_service.sessions,
            client,
            max_age=timedelta(days=365),
            batch_size=5000,
            now=datetime.now(UTC),
        )

    github.rate_limited = 5
    async with GitHub.connect(settings) as client:
        refused = await one_round()
        kept = await scalar(
            repositories_service.sessions,
            "SELECT refreshed_at FROM repositories WHERE github_id = :g",
            g=stale["id"],
        )
        github.rate_limited = None
        done = await one_round()

    assert (refused.refreshed, kept) == (0, long_ago)
    assert done.refreshed >= 1
    names = {
        row[0]: row[1] for row in (await rows_of(repositories_service.sessions, user)).values()
    }
    assert names == {stale["id"]: "octocat/stale-renamed", fresh["id"]: fresh_name}
