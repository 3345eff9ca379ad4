"""The gateway's security controls on the real cluster: a signed-in browser's session, the
real auth and the real services behind nginx (deploy/gateway/README.md, "Security")."""

from __future__ import annotations

import httpx
import pytest
from e2e_support import Cluster, GitHubUser

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def assert_problem(response: httpx.Response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:codeflow:problem:{kind}"


async def test_a_cross_site_write_is_refused_and_one_from_the_public_origin_is_carried_out(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:
        forged = await browser.post(
            "/api/repositories",
            json=await cluster.add_repository(github_user, "sec-1"),
            headers={"Origin": "https://evil.example"},
        )
        sibling = await browser.post(
            "/api/repositories",
            json=await cluster.add_repository(github_user, "sec-2"),
            headers={"Sec-Fetch-Site": "same-site"},
        )
        own = await browser.post(
            "/api/repositories",
            json=await cluster.add_repository(github_user, "sec-3"),
            headers={"Origin": cluster.gateway_url, "Sec-Fetch-Site": "same-origin"},
        )
        listed = (await browser.get("/api/repositories")).json()

    assert_problem(forged, 403, "cross-site-request")
    assert_problem(sibling, 403, "cross-site-request")
    assert own.status_code == 201, own.text
    assert [r["name"] for r in listed["items"]] == ["sec-3"]


async def test_auth_s_session_check_cannot_be_asked_for_from_outside(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:
        answers = [
            await browser.get(path, follow_redirects=False)
            for path in ("/auth/verify", "/auth/verify/", "/auth/%76erify", "/auth/VERIFY")
        ]

    for answer in answers:
        assert_problem(answer, 404, "not-found")
        assert "x-auth-token" not in answer.headers


async def test_every_answer_carries_the_security_headers_and_the_session_is_never_cached(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:
        answers = {
            "session": await browser.get("/auth/session"),
            "csrf": await browser.get("/auth/csrf"),
            "api": await browser.get("/api/repositories"),
            "problem": await browser.get("/nothing/here"),
        }

    for name, answer in answers.items():
        assert answer.headers["x-content-type-options"] == "nosniff", name
        assert answer.headers["referrer-policy"] == "no-referrer", name
    assert answers["session"].headers["cache-control"] == "no-store"
    assert answers["csrf"].headers["cache-control"] == "no-store"


async def test_path_tricks_and_oversized_bodies_are_refused_by_the_gateway(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:
        tricks = [
            await browser.get(path)
            # (httpx resolves a plain /../ itself, so the tricks are spelt as it sends them.)
            for path in (
                "/api/profiles%2f..%2fjanitor/deletions",
                "/api/profiles/%2e%2e/repositories",
                "/api/profiles/..;/janitor/deletions",
                "/api/%2e%2e/auth/verify",
            )
        ]
        oversized = await browser.post(
            "/api/repositories",
            content=b'{"name": "' + b"x" * (1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )

    for trick in tricks:
        assert_problem(trick, 400, "bad-request")
    assert_problem(oversized, 413, "payload-too-large")
