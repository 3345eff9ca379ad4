from __future__ import annotations

import asyncio
import os
import sys
import uuid

import httpx
import pytest
from e2e_support import Cluster, GitHubUser, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def _user_with_data(cluster: Cluster, browser, user: GitHubUser) -> str:  # type: ignore[no-untyped-def]
    user_id: str = (await cluster.sign_in(browser, user))["user"]["id"]
    created = await browser.post(
        "/api/repositories",
        json=await cluster.add_repository(user, "kept"),
    )
    assert created.status_code == 201, created.text

    async def everywhere() -> bool:
        rows = await cluster.rows_of(user_id)
        return all(rows.values())

    await eventually(everywhere, timeout=30, what="the user's rows in every service")
    return user_id


async def _one_deletion(
    cluster: Cluster, user_id: str, condition: str, *, timeout: float, what: str
) -> None:
    """Wait until the janitor holds one deletion of ``user_id`` that meets ``condition`` (SQL
    these tests write, never a value from outside)."""

    async def found() -> bool:
        sql = "SELECT count(*) FROM deletions WHERE user_id = $1 AND " + condition  # noqa: S608
        return await cluster.count("janitor", sql, user_id) == 1

    await eventually(found, timeout=timeout, what=what)


async def _erased(cluster: Cluster, user_id: str) -> None:
    async def gone() -> bool:
        return not any((await cluster.rows_of(user_id)).values())

    await eventually(gone, timeout=90, what="the user's rows to disappear from every service")
    await _one_deletion(
        cluster,
        user_id,
        "completed_at IS NOT NULL",
        timeout=30,
        what="the janitor to record the deletion complete",
    )


async def test_deleting_my_account_erases_me_in_every_service_as_i_follow_it_without_a_session(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
        response = await browser.delete("/auth/me", headers=await cluster.csrf(browser))
        assert response.status_code == 202, response.text
        assert (await browser.get("/api/repositories")).status_code == 401
    deletion_id, progress = response.json()["deletionId"], response.json()["progress"]
    assert progress == f"/api/janitor/deletions/{deletion_id}/progress"

    # A page with no session (its cookie is gone), polling as the person's browser would.
    async with cluster.browser() as page:

        async def complete() -> dict[str, object] | None:
            answer = await page.get(progress)
            if answer.status_code == 404:  # the janitor has not recorded it yet
                assert answer.json()["type"] == "urn:codeflow:problem:deletion-not-found"
                return None
            assert answer.status_code == 200, answer.text
            assert answer.headers["cache-control"] == "no-store"
            body: dict[str, object] = answer.json()
            return body if body["status"] == "complete" else None

        finished = await eventually(complete, timeout=90, what="the progress to read complete")
        # The rest of the deletion, and anything else under /api/, still takes a session;
        # the progress takes nothing but reads.
        whole = await page.get(f"/api/janitor/deletions/{deletion_id}")
        written = await page.post(progress)

    assert finished == {
        "status": "complete",
        "services": [
            {"service": "auth", "done": True},
            {"service": "profiles", "done": True},
            {"service": "repositories", "done": True},
        ],
    }
    assert user_id not in str(finished)
    assert whole.status_code == 401
    assert whole.json()["type"] == "urn:codeflow:problem:not-signed-in"
    assert written.status_code == 405
    assert written.headers["content-type"] == "application/problem+json"
    assert not any((await cluster.rows_of(user_id)).values())


async def test_the_gateway_answers_the_progress_of_an_unknown_deletion_404_without_a_session(
    cluster: Cluster,
) -> None:
    async with cluster.browser() as page:
        unknown = await page.get(f"/api/janitor/deletions/{uuid.uuid4()}/progress")
        not_an_id = await page.get("/api/janitor/deletions/not-a-deletion-id/progress")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "urn:codeflow:problem:deletion-not-found"
    # Not a UUID: not the progress route, so the session check answers first.
    assert not_an_id.status_code == 401


async def _github_token(cluster: Cluster, user: GitHubUser) -> str:
    """The token GitHub's stand-in handed CodeFlow when the user signed in."""
    async with httpx.AsyncClient(timeout=10) as client:
        listed = await client.get(f"{cluster.emulator_url}/_emulator/users/{user.id}/tokens")
    tokens = listed.json()["tokens"]
    assert len(tokens) == 1, tokens
    return str(tokens[0]["token"])


async def _works_at_github(cluster: Cluster, token: str) -> bool:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{cluster.emulator_url}/user", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def _revoked_at_github(cluster: Cluster, token: str) -> None:
    async def revoked() -> bool:
        return not await _works_at_github(cluster, token)

    await eventually(revoked, timeout=30, what="CodeFlow's GitHub token to stop working")


async def test_deleting_my_account_revokes_codeflows_grant_at_github(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.signed_in(github_user) as browser:
        token = await _github_token(cluster, github_user)
        assert await _works_at_github(cluster, token)
        response = await browser.delete("/auth/me", headers=await cluster.csrf(browser))
        assert response.status_code == 202
    await _revoked_at_github(cluster, token)


async def _age_in_the_janitor(cluster: Cluster, user_id: str) -> None:
    """Age the user's last activity past the 90-day threshold in the janitor's projection
    (what every UserActive moves forward)."""
    await cluster.execute(
        "janitor",
        "UPDATE user_activity SET last_active_at = now() - interval '100 days',"
        " first_seen_at = now() - interval '100 days' WHERE user_id = $1",
        user_id,
    )


async def _idle_for_100_days_in_auth(cluster: Cluster, user_id: str) -> None:
    """Idle for 100 days as auth sees it too: last recorded activity, and the sign-in that
    opened the session (which ended 70 days ago)."""
    await cluster.execute(
        "auth",
        "UPDATE users SET last_active_at = now() - interval '100 days' WHERE id = $1",
        user_id,
    )
    await cluster.execute(
        "auth",
        "UPDATE sessions SET created_at = now() - interval '100 days',"
        " expires = now() - interval '70 days' WHERE user_id = $1",
        user_id,
    )


async def _inactive_for_100_days(cluster: Cluster, user_id: str) -> None:
    """Past the threshold in both places the sweep reads: auth's and the janitor's."""
    await _idle_for_100_days_in_auth(cluster, user_id)
    await _age_in_the_janitor(cluster, user_id)


async def _sweep_from_the_command_line(cluster: Cluster) -> None:
    env = dict(os.environ)
    env["JANITOR_DATABASE_URL"] = cluster.database_url("janitor")
    sweep = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codeflow_janitor", "sweep", "--force", env=env
    )
    assert await asyncio.wait_for(sweep.wait(), timeout=120) == 0


async def test_a_user_inactive_past_the_threshold_is_swept_and_erased_everywhere(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
    await _inactive_for_100_days(cluster, user_id)
    await _sweep_from_the_command_line(cluster)
    await _erased(cluster, user_id)


async def test_an_erasure_for_inactivity_revokes_codeflows_grant_at_github(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        # Known to every service first: the janitor ages only a user it has a row for.
        user_id = await _user_with_data(cluster, browser, github_user)
    token = await _github_token(cluster, github_user)
    await _inactive_for_100_days(cluster, user_id)

    await _sweep_from_the_command_line(cluster)

    await _revoked_at_github(cluster, token)
    assert await cluster.count("auth", "SELECT count(*) FROM users WHERE id = $1", user_id) == 0


async def test_a_person_back_before_the_erasure_starts_keeps_everything(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
        # The janitor's projection still says 100 days, as when the person's UserActive
        # hasn't reached it yet: its sweep picks them, and auth, which saw them sign in,
        # cancels the erasure before anything is deleted.
        await _age_in_the_janitor(cluster, user_id)
        await _sweep_from_the_command_line(cluster)
        await _one_deletion(
            cluster,
            user_id,
            "cancelled_at IS NOT NULL AND completed_at IS NULL AND cancellation LIKE 'active at %'",
            timeout=60,
            what="auth to cancel the erasure",
        )
        assert all((await cluster.rows_of(user_id)).values())
        dashboard = await browser.get("/api/repositories")
        assert dashboard.status_code == 200
        assert [r["name"] for r in dashboard.json()["items"]] == ["kept"]


async def test_a_service_stopped_during_a_deletion_catches_up_after_it_restarts(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    repositories = cluster.component("repositories")
    async with cluster.browser() as browser:
        user_id = await _user_with_data(cluster, browser, github_user)
        await asyncio.to_thread(repositories.stop)
        try:
            response = await browser.delete("/auth/me", headers=await cluster.csrf(browser))
            assert response.status_code == 202
            await _one_deletion(
                cluster,
                user_id,
                "auth_acked_at IS NOT NULL AND profiles_acked_at IS NOT NULL"
                " AND repositories_acked_at IS NULL AND completed_at IS NULL",
                timeout=60,
                what="auth and profiles to ack",
            )
            assert (await cluster.rows_of(user_id))["repositories"] == 1
        finally:
            await asyncio.to_thread(repositories.start)
            await asyncio.to_thread(repositories.wait_ready, 60)
    await _erased(cluster, user_id)


async def test_signing_in_again_while_the_old_deletion_is_in_flight_gives_a_fresh_account(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        old_id = await _user_with_data(cluster, browser, github_user)
        response = await browser.delete("/auth/me", headers=await cluster.csrf(browser))
        assert response.status_code == 202
        new_id = (await cluster.sign_in(browser, github_user))["user"]["id"]
        assert new_id != old_id

        async def new_profile() -> dict[str, object] | None:
            answer = await browser.get("/api/profiles/me")
            return answer.json() if answer.status_code == 200 else None

        profile = await eventually(new_profile, timeout=30, what="the new user's profile")
        assert profile["user_id"] == new_id
        again = await browser.post(
            "/api/repositories",
            json=await cluster.add_repository(github_user, "kept"),
        )
        assert again.status_code == 201, again.text
    await _erased(cluster, old_id)
    rows = await cluster.rows_of(new_id)
    assert rows == {"auth": 1, "profiles": 1, "repositories": 1, "janitor": 1}
    async with cluster.signed_in(github_user) as browser:
        mine = (await browser.get("/api/profiles/me")).json()
        assert (mine["user_id"], mine["username"]) == (new_id, github_user.login)
