"""Rate limits: headers on every answer, an exhausted budget, secondary limits, counts."""

import re

import httpx
import pytest

from codeflow_github_emulator.testing import OCTOCAT_ID, SignIn, bearer

RATE_LIMITS_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@pytest.mark.parametrize("path", ["/user", "/user/repos", "/repositories/1", "/user/emails"])
async def test_every_answer_carries_the_rate_headers_of_the_tokens_user(
    client: httpx.AsyncClient, sign_in: SignIn, path: str
) -> None:
    response = await client.get(path, headers=bearer(await sign_in(scope="read:user")))
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert response.headers["X-RateLimit-Remaining"] == "4999"
    assert response.headers["X-RateLimit-Used"] == "1"
    assert response.headers["X-RateLimit-Resource"] == "core"
    assert re.fullmatch(r"\d{10}", response.headers["X-RateLimit-Reset"])


async def test_the_budget_is_the_users_across_their_tokens(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await client.get("/user", headers=bearer(await sign_in()))
    second = await client.get("/user", headers=bearer(await sign_in()))
    assert second.headers["X-RateLimit-Used"] == "2"
    other = await client.get("/user", headers=bearer(await sign_in("monalisa")))
    assert other.headers["X-RateLimit-Used"] == "1"


async def test_an_exhausted_budget_is_forbidden_with_githubs_message(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    budget = await client.post("/_emulator/rate-limit", json={"login": "octocat", "remaining": 1})
    assert budget.json()["X-RateLimit-Remaining"] == "1"
    assert (await client.get("/user/repos", headers=headers)).status_code == 200
    refused = await client.get("/user/repos", headers=headers)
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Used"] == "5000"
    body = refused.json()
    assert body["message"].startswith(f"API rate limit exceeded for user ID {OCTOCAT_ID}. ")
    assert refused.headers["X-GitHub-Request-Id"] in body["message"]
    assert body["documentation_url"] == RATE_LIMITS_DOC


async def test_the_budget_comes_back_when_the_hour_resets(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in())
    await client.post("/_emulator/rate-limit", json={"user_id": OCTOCAT_ID, "remaining": 0})
    refused = await client.get("/user", headers=headers)
    assert refused.status_code == 403
    await client.post("/_emulator/clock", json={"seconds": 3600})
    allowed = await client.get("/user", headers=headers)
    assert allowed.status_code == 200
    assert int(allowed.headers["X-RateLimit-Reset"]) > int(refused.headers["X-RateLimit-Reset"])


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_limit_refuses_the_next_requests_with_retry_after(
    client: httpx.AsyncClient, sign_in: SignIn, status: int
) -> None:
    headers = bearer(await sign_in())
    triggered = await client.post(
        "/_emulator/secondary-rate-limit",
        json={"requests": 2, "status": status, "retry_after": 30},
    )
    assert triggered.status_code == 204
    for _ in range(2):
        refused = await client.get("/user/repos", headers=headers)
        assert refused.status_code == status
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit.")
        assert refused.json()["documentation_url"].endswith("#about-secondary-rate-limits")
    allowed = await client.get("/user/repos", headers=headers)
    assert allowed.status_code == 200
    assert allowed.headers["X-RateLimit-Used"] == "1"


async def test_requests_are_counted_per_route_and_status_until_a_reset(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = bearer(await sign_in(scope="repo"))
    await client.get("/repositories/1296269", headers=headers)
    await client.get("/repositories/3000000101", headers=headers)
    await client.get("/user", headers=headers)
    counts = (await client.get("/_emulator/requests")).json()
    assert counts["GET /repositories/{repo_id}"] == {"200": 1, "404": 1}
    assert counts["GET /user"] == {"200": 1}
    assert counts["POST /login/oauth/access_token"] == {"200": 1}
    await client.post("/_emulator/reset")
    assert (await client.get("/_emulator/requests")).json() == {}


async def test_a_budget_for_an_unknown_user_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/_emulator/rate-limit", json={"user_id": 1, "remaining": 0})
    assert response.status_code == 404
