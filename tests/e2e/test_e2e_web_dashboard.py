"""The web dashboard at ``/``, in a real browser, through the gateway and GitHub's stand-in.

A person signs in with the "Sign in with GitHub" button, picks their account on the
stand-in's authorization page, and uses the page as anyone would: by the buttons' and
links' names. Each screen is saved as a screenshot (web_browser.screenshot); the page's
answers to problems GitHub causes are in test_e2e_web_problems.py.
"""

from __future__ import annotations

import re

import httpx
import pytest
from e2e_support import Cluster, GitHubUser
from playwright.async_api import BrowserContext, Page, expect
from web_browser import card, chromium, screenshot, starting_with

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


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
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await page.keyboard.press("Escape")  # the keyboard's way out: nothing happens
    await expect(dialog).to_be_hidden()
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
