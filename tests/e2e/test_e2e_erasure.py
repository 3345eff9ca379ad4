from __future__ import annotations

import asyncio
import os
import sys

import pytest
from e2e_support import Cluster, GitHubUser, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def _user_with_data(cluster: Cluster, browser, user: GitHubUser) -> str:  # type: ignore[no-untyped-def]
    user_id: str = (await cluster.sign_in(browser, user))["user"]["id"]
    created = await browser.post(
        "/api/repositories",
        json={
            "github_id": 2001,
            "owner": user.login,
            "name": "kept",
            "full_name": f"{user.login}/kept",
        },
    )
    assert created.status_code == 201, created.text

    async def everywhere() -> bool:
        rows = await cluster.rows_of(user_id)
        return all(rows.values())

    await eventually(everywhere, timeout=30, what="the user's rows in every service")
    return user_id


async def _erased(cluster: Cluster, user_id: str) -> None:
    async def gone() -> bool:
        return not any((await cluster.rows_of(user_id)).values())

    await eventually(gone, timeout=90, what="the user's rows to disappear from every service")

    async def complete() -> bool:
        return (
            await cluster.count(
                "janitor",
                "SELECT count(*) FROM deletions WHERE user_id = $1 AND completed_at IS NOT NULL",
                user_id,
            )
            == 1
        )

    await eventually(complete, timeout=30, what="the janitor to record the deletion complete")


async def test_deleting_my_account_erases_me_in_every_service(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
        response = await browser.delete("/auth/me", headers=await cluster.csrf(browser))
        assert response.status_code == 202
        assert (await browser.get("/api/repositories")).status_code == 401
    await _erased(cluster, user_id)


async def test_a_user_inactive_past_the_threshold_is_swept_and_erased_everywhere(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
    # Age this one user's last activity past the 90-day threshold, in the janitor's own
    # projection (what every UserActive moves forward), then sweep from the command line.
    await cluster.execute(
        "janitor",
        "UPDATE user_activity SET last_active_at = now() - interval '100 days',"
        " first_seen_at = now() - interval '100 days' WHERE user_id = $1",
        user_id,
    )
    env = dict(os.environ)
    env["JANITOR_DATABASE_URL"] = cluster.database_url("janitor")
    sweep = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codeflow_janitor", "sweep", "--force", env=env
    )
    assert await asyncio.wait_for(sweep.wait(), timeout=120) == 0
    await _erased(cluster, user_id)
