"""The web dashboard at ``/``, in a real browser, through the gateway and GitHub's stand-in.

A person signs in with the "Sign in with GitHub" button, picks their account on the
stand-in's authorization page, and uses the page as anyone would: by the buttons' and
links' names. Each screen is saved as a screenshot (web_browser.screenshot).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from e2e_support import Cluster, GitHubUser
from playwright.async_api import BrowserContext, Page, expect
from web_browser import chromium, chromium_missing, screenshot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or ""),
]


@pytest.fixture
async def browser(cluster: Cluster) -> AsyncIterator[BrowserContext]:
    async with chromium(cluster.gateway_url) as context:
        yield context


@pytest.fixture
async def page(browser: BrowserContext) -> Page:
    return await browser.new_page()


async def add_github_repository(
    cluster: Cluster, user: GitHubUser, name: str, **details: object
) -> int:
    """A repository of ``user`` on GitHub's stand-in; its GitHub id."""
    github_id = (await cluster.add_repository(user, name, **details))["github_id"]
    assert isinstance(github_id, int)
    return github_id


async def sign_in(page: Page, user: GitHubUser) -> None:
    """From the signed-out page, through the stand-in's authorization page, to the dashboard."""
    await page.goto("/")
    await page.get_by_role("link", name="Sign in with GitHub").click()
    await page.get_by_role("button", name=f"Authorize as {user.login}").click()
    await expect(page.get_by_role("heading", name="Your repositories")).to_be_visible()


async def monitor(page: Page, github_id: int) -> None:
    """Monitor a repository through the API, with the browser's session."""
    answer = await page.request.post("/api/repositories", data={"github_id": github_id})
    assert answer.status in (200, 201), await answer.text()


def starting_with(full_name: str) -> re.Pattern[str]:
    """An accessible name that starts with ``full_name`` (a checkbox's label goes on)."""
    # Playwright hands the pattern to the page as JavaScript: its slash is escaped too.
    return re.compile("^" + re.escape(full_name).replace("/", "\\/") + r"\b")


def card(page: Page, full_name: str) -> Any:
    return page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=full_name, exact=True)
    )


async def test_signing_in_shows_the_dashboard_and_stopping_asks_first(
    cluster: Cluster, github_user: GitHubUser, page: Page
) -> None:
    owner = github_user.login
    await page.goto("/")
    await expect(page.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
    await screenshot(page, "signed-out")

    await sign_in(page, github_user)
    await expect(page.get_by_text("You monitor no repositories yet.")).to_be_visible()
    first = await add_github_repository(
        cluster, github_user, "alpha", description="A library for everything", stargazers_count=1280
    )
    second = await add_github_repository(
        cluster, github_user, "beta", description="Its command line", default_branch="trunk"
    )
    await monitor(page, first)
    await monitor(page, second)
    await page.reload()

    await expect(card(page, f"{owner}/alpha")).to_be_visible()
    await expect(card(page, f"{owner}/beta")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Account")).to_contain_text(f"E2E {owner}")

    await screenshot(page, "dashboard")

    await page.get_by_role("button", name=f"Stop monitoring {owner}/beta").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"Stop monitoring {owner}/beta?")
    await screenshot(page, "stop-monitoring")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(card(page, f"{owner}/beta")).to_be_visible()

    await page.get_by_role("button", name=f"Stop monitoring {owner}/beta").click()
    await dialog.get_by_role("button", name="Stop monitoring").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Stopped monitoring {owner}/beta")
    await expect(card(page, f"{owner}/beta")).to_have_count(0)
    await expect(card(page, f"{owner}/alpha")).to_be_visible()

    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
    session = await page.request.get("/auth/session")
    assert await session.json() is None


async def test_signing_out_everywhere_ends_the_other_browsers_sessions_too(
    cluster: Cluster, github_user: GitHubUser, browser: BrowserContext
) -> None:
    here = await browser.new_page()
    async with chromium(cluster.gateway_url) as elsewhere_browser:
        elsewhere = await elsewhere_browser.new_page()
        await sign_in(here, github_user)
        await sign_in(elsewhere, github_user)

        await here.get_by_role("button", name="Sign out everywhere").click()

        await expect(here.get_by_role("link", name="Sign in with GitHub")).to_be_visible()
        await elsewhere.reload()
        await expect(elsewhere.get_by_role("link", name="Sign in with GitHub")).to_be_visible()


async def test_a_failed_call_shows_the_problem_and_offers_to_sign_in_again(
    cluster: Cluster, github_user: GitHubUser, page: Page
) -> None:
    owner = github_user.login
    await sign_in(page, github_user)
    github_id = await add_github_repository(cluster, github_user, "gamma")
    await monitor(page, github_id)
    await page.reload()
    await expect(card(page, f"{owner}/gamma")).to_be_visible()
    # The session ends behind the page's back (as a sign-out on another device would).
    csrf = (await (await page.request.get("/auth/csrf")).json())["csrfToken"]
    ended = await page.request.post("/auth/signout", headers={"X-CSRF-Token": csrf})
    assert ended.status == 204

    await page.get_by_role("button", name=f"Stop monitoring {owner}/gamma").click()
    await page.get_by_role("dialog").get_by_role("button", name="Stop monitoring").click()

    notice = page.get_by_role("alert")
    await expect(notice).to_contain_text("Not signed in")
    again = notice.get_by_role("link", name="Sign in again")
    await expect(again).to_have_attribute("href", re.compile(r"^/auth/signin/github\?"))
    await screenshot(page, "problem")


async def test_a_person_adds_repositories_from_their_list_refreshes_stops_and_leaves(
    cluster: Cluster, github_user: GitHubUser, page: Page
) -> None:
    owner = github_user.login
    alpha = await add_github_repository(
        cluster, github_user, "alpha", description="The first one", stargazers_count=42
    )
    beta = await add_github_repository(cluster, github_user, "beta", default_branch="trunk")
    await add_github_repository(cluster, github_user, "gamma")
    await sign_in(page, github_user)
    await screenshot(page, "dashboard-empty")

    # Two repositories picked from the person's own list.
    await page.get_by_role("link", name="Add repositories").first.click()
    await expect(page.get_by_role("heading", name="Add repositories")).to_be_visible()
    await page.get_by_role("checkbox", name=starting_with(f"{owner}/alpha")).check()
    await page.get_by_role("checkbox", name=starting_with(f"{owner}/beta")).check()
    await screenshot(page, "add-repositories")
    await page.get_by_role("button", name="Add 2 selected").click()
    await expect(card(page, f"{owner}/alpha")).to_contain_text("The first one")
    await expect(card(page, f"{owner}/alpha")).to_contain_text("42")
    await expect(card(page, f"{owner}/beta")).to_contain_text("trunk")
    await expect(card(page, f"{owner}/beta")).to_contain_text("public")
    await expect(card(page, f"{owner}/gamma")).to_have_count(0)

    # The list marks what is monitored, and finds by name.
    await page.get_by_role("link", name="Add repositories").first.click()
    monitored = page.get_by_role("checkbox", name=starting_with(f"{owner}/alpha"))
    await expect(monitored).to_be_disabled()
    await page.get_by_label("Search your repositories by name").fill("gam")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page.get_by_role("checkbox", name=starting_with(f"{owner}/gamma"))).to_be_visible()
    await expect(monitored).to_have_count(0)
    await page.get_by_role("link", name="Back to the dashboard").click()

    # GitHub renames one and loses the other; a refresh shows both.
    async with httpx.AsyncClient(base_url=cluster.emulator_url, timeout=10) as github:
        (
            await github.post(f"/_emulator/repos/{alpha}/rename", json={"name": "omega"})
        ).raise_for_status()
        (await github.delete(f"/_emulator/repos/{beta}")).raise_for_status()
    await page.get_by_role("button", name="Refresh from GitHub").click()
    await expect(page.get_by_role("status")).to_contain_text("Refreshed from GitHub")
    await expect(card(page, f"{owner}/omega")).to_be_visible()
    await expect(card(page, f"{owner}/alpha")).to_have_count(0)
    await expect(card(page, f"{owner}/beta")).to_contain_text(
        "No longer on GitHub or not visible to you"
    )
    await screenshot(page, "dashboard-refreshed")

    await page.get_by_role("button", name=f"Stop monitoring {owner}/beta").click()
    await page.get_by_role("dialog").get_by_role("button", name="Stop monitoring").click()
    await expect(card(page, f"{owner}/beta")).to_have_count(0)

    # Leaving: the confirmation names what goes, then the erasure's progress to the end.
    await page.get_by_role("link", name="Delete account").click()
    await expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    erase = page.get_by_role("button", name="Delete my account")
    await expect(erase).to_be_disabled()
    await screenshot(page, "delete-account")
    await page.get_by_label("I understand this can't be undone.").check()
    await erase.click()
    await expect(page.get_by_role("status")).to_contain_text(
        "Your account is deleted", timeout=90_000
    )
    await expect(page.get_by_role("listitem").filter(has_text="erased")).to_have_count(3)
    await screenshot(page, "deletion-complete")
    session = await page.request.get("/auth/session")
    assert await session.json() is None


# The page against the contract's answers where GitHub misbehaves, which the stand-in can
# cause only slowly or not at all: the API's answers are given by the test (page.route),
# everything else is the real page from the real gateway.

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
