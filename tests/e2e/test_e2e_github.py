"""Choosing repositories from one's GitHub account, through the gateway, auth's internal
route and GitHub's stand-in: what GitHub says is what CodeFlow stores (ADR 0023)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from e2e_support import Cluster, GitHubUser

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

BY_ID = "GET /repositories/{repo_id}"


async def emulator(cluster: Cluster, method: str, path: str, **json: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=cluster.emulator_url, timeout=10) as client:
        response = await client.request(method, path, json=json or None)
        response.raise_for_status()
        return response


async def answered(cluster: Cluster, route: str) -> dict[str, int]:
    counts = (await emulator(cluster, "GET", "/_emulator/requests")).json()
    return counts.get(route, {})


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:codeflow:problem:{kind}"
    return problem


async def test_a_person_lists_their_github_repositories_and_monitors_one_by_id(
    cluster: Cluster, github_user: GitHubUser, other_github_user: GitHubUser
) -> None:
    mine = [await cluster.add_repository(github_user, f"lib-{n}") for n in range(3)]
    secret = await cluster.add_repository(other_github_user, "secret", private=True)
    async with cluster.signed_in(github_user) as browser:
        monitored = await browser.post("/api/repositories", json=mine[1])
        first = await browser.get("/api/repositories/available", params={"per_page": 2})
        found = await browser.get("/api/repositories/available", params={"q": "LIB-2"})
        refused = await browser.post("/api/repositories", json=secret)

    assert monitored.status_code == 201, monitored.text
    assert monitored.json()["full_name"] == f"{github_user.login}/lib-1"
    assert monitored.json()["visibility"] == "public"
    page = first.json()
    assert [(r["name"], r["monitored"]) for r in page["items"]] == [
        ("lib-0", False),
        ("lib-1", True),
    ]
    assert (page["next_page"], page["last_page"]) == (2, 2)
    assert 'rel="next"' in first.headers["link"]
    assert [r["name"] for r in found.json()["items"]] == ["lib-2"]
    assert_problem(refused, 404, "repository-not-found")


async def test_a_refresh_brings_a_rename_and_then_asks_with_the_etag(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    repo = await cluster.add_repository(github_user, "before")
    async with cluster.signed_in(github_user) as browser:
        await browser.post("/api/repositories", json=repo)
        await emulator(
            cluster, "POST", f"/_emulator/repos/{repo['github_id']}/rename", name="after"
        )
        renamed = await browser.post("/api/repositories/refresh")
        names = [r["full_name"] for r in (await browser.get("/api/repositories")).json()["items"]]
        before = await answered(cluster, BY_ID)
        again = await browser.post("/api/repositories/refresh")
        after = await answered(cluster, BY_ID)
        await emulator(cluster, "DELETE", f"/_emulator/repos/{repo['github_id']}")
        gone = await browser.post("/api/repositories/refresh")
        shown = (await browser.get("/api/repositories")).json()["items"]

    assert renamed.json() == {"refreshed": 1, "unchanged": 0, "unavailable": 0}
    assert names == [f"{github_user.login}/after"]
    assert again.json() == {"refreshed": 0, "unchanged": 1, "unavailable": 0}
    assert after.get("304", 0) == before.get("304", 0) + 1, "the second refresh is a 304"
    assert after.get("200", 0) == before.get("200", 0)
    assert gone.json() == {"refreshed": 0, "unchanged": 0, "unavailable": 1}
    assert [(r["full_name"], r["github_state"]) for r in shown] == [
        (f"{github_user.login}/after", "unavailable")
    ]


async def test_a_spent_rate_limit_is_a_503_with_retry_after(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    repo = await cluster.add_repository(github_user, "limited")
    async with cluster.signed_in(github_user) as browser:
        await emulator(
            cluster, "POST", "/_emulator/rate-limit", user_id=github_user.id, remaining=0
        )
        primary = await browser.post("/api/repositories", json=repo)
        await emulator(
            cluster, "POST", "/_emulator/rate-limit", user_id=github_user.id, remaining=5000
        )
        await emulator(
            cluster, "POST", "/_emulator/secondary-rate-limit", status=429, retry_after=42
        )
        secondary = await browser.get("/api/repositories/available")
        listed = (await browser.get("/api/repositories")).json()["items"]

    assert_problem(primary, 503, "github-rate-limited")
    assert 1 <= int(primary.headers["retry-after"]) <= 3600
    assert_problem(secondary, 503, "github-rate-limited")
    assert secondary.headers["retry-after"] == "42"
    assert listed == []


async def test_a_revoked_github_token_asks_the_person_to_sign_in_again(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    repo = await cluster.add_repository(github_user, "revoked")
    async with cluster.signed_in(github_user) as browser:
        await emulator(cluster, "DELETE", f"/_emulator/users/{github_user.id}/tokens")
        refused = await browser.post("/api/repositories", json=repo)
        await cluster.sign_in(browser, github_user)
        accepted = await browser.post("/api/repositories", json=repo)

    problem = assert_problem(refused, 401, "github-authorization-ended")
    assert "sign in again" in problem["title"]
    assert accepted.status_code == 201, accepted.text
