"""The web dashboard against the API's answers where GitHub misbehaves, which the stand-in
can cause only slowly or not at all: those answers are given by the test (``page.route``),
in the shapes issue 18's contract gives them; everything else is the real page from the
real gateway, in a real browser.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from e2e_support import Cluster
from playwright.async_api import Page, expect
from web_browser import card, starting_with

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

GONE = {
    "id": "6b0f2c3e-0000-4000-8000-000000000001",
    "github_id": 7001,
    "owner": "octo",
    "name": "gone",
    "full_name": "octo/gone",
    "is_active": True,
    "description": "Deleted on GitHub",
    "visibility": "public",
    "default_branch": "main",
    "pushed_at": "2026-01-02T03:04:05Z",
    "stargazers_count": 3,
    "html_url": "https://github.com/octo/gone",
    "github_state": "unavailable",
    "refreshed_at": "2026-12-01T00:00:00Z",
}


async def answer_as_the_api(
    page: Page, answers: dict[str, list[tuple[int, Any, dict[str, str]]]]
) -> None:
    """Answer each path (without its query) with the next of its answers; the last repeats."""

    async def handle(route: Any) -> None:
        path = re.sub(r"\?.*$", "", route.request.url.split("://", 1)[1].split("/", 1)[1])
        queue = answers[f"/{path}"]
        status, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        problem = isinstance(body, dict) and "type" in body
        await route.fulfill(
            status=status,
            headers=headers,
            content_type="application/problem+json" if problem else "application/json",
            body=json.dumps(body),
        )

    for path in answers:
        await page.route(re.compile(rf"^[^?]*{re.escape(path)}(\?.*)?$"), handle)


def problem(status: int, kind: str, title: str, detail: str = "") -> dict[str, Any]:
    return {
        "type": f"urn:codeflow:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }


SIGNED_IN = {
    "user": {"id": "u1", "name": "Octo Cat", "email": "octo@example.com"},
    "expires": "2027-01-01T00:00:00Z",
}


async def test_a_repository_gone_from_github_and_a_rate_limited_refresh_are_shown(
    cluster: Cluster, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    await answer_as_the_api(
        page,
        {
            "/auth/session": [(200, SIGNED_IN, {})],
            "/api/profiles/me": [(200, {"username": "octo"}, {})],
            "/api/repositories": [(200, {"items": [GONE], "next_cursor": None}, {})],
            "/api/repositories/refresh": [
                (
                    503,
                    problem(503, "github-rate-limited", "GitHub's rate limit is reached"),
                    {"Retry-After": "42"},
                )
            ],
        },
    )
    await page.goto("/")
    await expect(card(page, "octo/gone")).to_contain_text(
        "No longer on GitHub or not visible to you"
    )
    await expect(card(page, "octo/gone")).to_contain_text("Deleted on GitHub")

    await page.get_by_role("button", name="Refresh from GitHub").click()

    notice = page.get_by_role("alert")
    await expect(notice).to_contain_text("GitHub's rate limit is reached")
    await expect(notice).to_contain_text(re.compile(r"Try again in 4[12] s"))
    # Everything the page loaded came from the gateway, and nothing broke on the way
    # (the 503 is the one failed call, logged by the browser).
    assert requested
    assert [url for url in requested if not url.startswith(f"{cluster.gateway_url}/")] == []
    assert [error for error in errors if "503" not in error] == []


async def test_github_authorization_ended_offers_to_sign_in_again(page: Page) -> None:
    await answer_as_the_api(
        page,
        {
            "/auth/session": [(200, SIGNED_IN, {})],
            "/api/profiles/me": [(200, {"username": "octo"}, {})],
            "/api/repositories/available": [
                (
                    401,
                    problem(
                        401, "github-authorization-ended", "GitHub access has ended; sign in again"
                    ),
                    {},
                )
            ],
        },
    )
    await page.goto("/#/add")

    notice = page.get_by_role("alert")
    await expect(notice).to_contain_text("GitHub access has ended; sign in again")
    await expect(notice.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", "/auth/signin/github?callbackUrl=%2F%23%2Fadd"
    )


async def test_the_deletion_progress_is_asked_for_until_it_is_complete(page: Page) -> None:
    deletion = str(uuid.uuid4())
    services = ["auth", "profiles", "repositories"]
    await answer_as_the_api(
        page,
        {
            f"/api/janitor/deletions/{deletion}/progress": [
                (404, problem(404, "deletion-not-found", "No such deletion"), {}),
                (
                    200,
                    {
                        "status": "pending",
                        "services": [{"service": s, "done": s == "auth"} for s in services],
                    },
                    {},
                ),
                (
                    200,
                    {
                        "status": "complete",
                        "services": [{"service": s, "done": True} for s in services],
                    },
                    {},
                ),
            ],
        },
    )
    await page.goto(f"/#/deletion/{deletion}")

    await expect(page.get_by_role("status")).to_contain_text("Your account is deleted")
    await expect(page.get_by_role("listitem").filter(has_text="erased")).to_have_count(3)
    await expect(page.get_by_role("alert")).to_be_hidden()


def available(github_id: int, name: str, *, monitored: bool = False) -> dict[str, Any]:
    return {
        "github_id": github_id,
        "owner": "octo",
        "name": name,
        "full_name": f"octo/{name}",
        "description": None,
        "visibility": "public",
        "default_branch": "main",
        "pushed_at": None,
        "stargazers_count": 0,
        "html_url": f"https://github.com/octo/{name}",
        "monitored": monitored,
    }


async def test_repositories_picked_on_several_pages_are_added_by_github_id(page: Page) -> None:
    pages = {
        "1": {
            "items": [available(1, "one", monitored=True), available(2, "two")],
            "page": 1,
            "next_page": 2,
            "last_page": 2,
        },
        "2": {"items": [available(3, "three")], "page": 2, "next_page": None, "last_page": 2},
    }
    asked: list[str] = []
    added: list[Any] = []

    async def repositories(route: Any) -> None:
        request = route.request
        if "/available" in request.url:
            query = dict(httpx.URL(request.url).params)
            asked.append(query.get("q", ""))
            await route.fulfill(json=pages[query["page"]])
        elif request.method == "POST":
            added.append(request.post_data_json)
            await route.fulfill(status=201, json={})
        else:
            await route.fulfill(json={"items": [], "next_cursor": None})

    await answer_as_the_api(
        page,
        {"/auth/session": [(200, SIGNED_IN, {})], "/api/profiles/me": [(200, {}, {})]},
    )
    await page.route(re.compile(r"/api/repositories"), repositories)
    await page.goto("/#/add")

    await expect(page.get_by_role("checkbox", name=starting_with("octo/one"))).to_be_disabled()
    await page.get_by_role("checkbox", name=starting_with("octo/two")).check()
    await expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    await page.get_by_role("button", name="Next page").click()
    await page.get_by_role("checkbox", name=starting_with("octo/three")).check()
    await page.get_by_label("Search your repositories by name").fill("thr")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("button", name="Add 2 selected").click()

    await expect(page.get_by_role("heading", name="Your repositories")).to_be_visible()
    assert added == [{"github_id": 2}, {"github_id": 3}]
    assert asked[-1] == "thr"


async def test_deleting_from_an_old_sign_in_asks_to_sign_in_again_and_come_back(
    page: Page,
) -> None:
    await answer_as_the_api(
        page,
        {
            "/auth/session": [(200, SIGNED_IN, {})],
            "/api/profiles/me": [(200, {"username": "octo"}, {})],
            "/auth/csrf": [(200, {"csrfToken": "token"}, {})],
            "/auth/me": [
                (
                    403,
                    problem(
                        403,
                        "reauthentication-required",
                        "Sign in again to do this",
                        "Deleting an account takes a sign-in within the last 10 minutes.",
                    ),
                    {},
                )
            ],
        },
    )
    await page.goto("/#/account/delete")
    await page.get_by_label("I understand this can't be undone.").check()
    await page.get_by_role("button", name="Delete my account").click()

    notice = page.get_by_role("alert")
    await expect(notice).to_contain_text("Sign in again to do this")
    await expect(notice).to_contain_text("within the last 10 minutes")
    await expect(notice.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", "/auth/signin/github?callbackUrl=%2F%23%2Faccount%2Fdelete"
    )
    await expect(page.get_by_role("button", name="Delete my account")).to_be_enabled()
