from __future__ import annotations

import os

import httpx
import pytest
from e2e_support import Cluster, GitHubUser, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_a_browser_signs_in_through_the_gateway_and_its_profile_arrives(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    async with cluster.browser() as browser:
        session = await cluster.sign_in(browser, github_user)
        assert session["user"]["email"] == github_user.email

        async def profile() -> dict[str, object] | None:
            response = await browser.get("/api/profiles/me")
            return response.json() if response.status_code == 200 else None

        mine = await eventually(profile, timeout=30, what="the profile to be created")
        assert mine["user_id"] == session["user"]["id"]
        assert mine["username"] == github_user.login
        assert mine["github_id"] == github_user.id

        public = await browser.get(f"/api/profiles/{github_user.login}")
        assert public.status_code == 200
        assert "user_id" not in public.json()


async def test_monitoring_listing_soft_deleting_and_bulk_changing_repositories(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    owner = github_user.login
    async with cluster.signed_in(github_user) as browser:
        created = await browser.post(
            "/api/repositories",
            json=await cluster.add_repository(github_user, "one"),
        )
        assert created.status_code == 201, created.text
        repo_id = created.json()["id"]

        listed = (await browser.get("/api/repositories")).json()
        assert [r["full_name"] for r in listed["items"]] == [f"{owner}/one"]

        assert (await browser.delete(f"/api/repositories/{repo_id}")).status_code == 204
        assert (await browser.get("/api/repositories")).json()["items"] == []
        settings_page = (await browser.get("/api/repositories?include_inactive=true")).json()
        assert [r["is_active"] for r in settings_page["items"]] == [False]

        bulk = await browser.post(
            "/api/repositories/bulk",
            json={
                "items": [
                    {"action": "activate", "id": repo_id},
                    {"action": "monitor", **await cluster.add_repository(github_user, "two")},
                ]
            },
        )
        assert bulk.status_code == 200, bulk.text
        active = (await browser.get("/api/repositories")).json()["items"]
        assert sorted(r["full_name"] for r in active) == [f"{owner}/one", f"{owner}/two"]

        rejected = await browser.post(
            "/api/repositories/bulk",
            json={
                "items": [
                    {"action": "deactivate", "id": repo_id},
                    {"action": "activate", "id": "00000000-0000-0000-0000-000000000000"},
                ]
            },
        )
        assert rejected.status_code in (404, 422)
        assert rejected.headers["content-type"] == "application/problem+json"
        still = (await browser.get("/api/repositories")).json()["items"]
        assert len(still) == 2, "one bad item must roll the whole bulk request back"


async def test_no_token_or_a_forged_one_gets_401_at_the_gateway_and_at_the_services(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(base_url=cluster.gateway_url, timeout=10) as client:
        for path in ("/api/repositories", "/api/profiles/me", "/api/janitor/deletions"):
            assert (await client.get(path)).status_code == 401
            forged = await client.get(path, headers={"Cookie": "authjs.session-token=forged"})
            assert forged.status_code == 401
            assert forged.headers["content-type"] == "application/problem+json"
            # A client can't slip its own identity past the gateway.
            injected = await client.get(
                path, headers={"Authorization": "Bearer forged", "X-User-Id": "someone"}
            )
            assert injected.status_code == 401
    direct_paths = {
        "PROFILES_PORT": (8002, "/profiles/me"),
        "REPOSITORIES_PORT": (8003, "/repositories"),
        "JANITOR_PORT": (8004, "/janitor/deletions"),
    }
    for variable, (default_port, path) in direct_paths.items():
        port = os.environ.get(variable, str(default_port))
        async with httpx.AsyncClient(timeout=10) as direct:
            url = f"http://127.0.0.1:{port}{path}"
            assert (await direct.get(url)).status_code == 401
            forged = await direct.get(url, headers={"Authorization": "Bearer not.a.jwt"})
            assert forged.status_code == 401


async def test_the_gateway_serves_every_services_openapi_and_asyncapi_document(
    cluster: Cluster,
) -> None:
    async with httpx.AsyncClient(base_url=cluster.gateway_url, timeout=10) as client:
        index = (await client.get("/api/docs/")).json()
        for service in ("auth", "profiles", "repositories", "janitor"):
            openapi = (await client.get(index["openapi"][service])).json()
            assert openapi["openapi"].startswith("3.")
            asyncapi = (await client.get(index["asyncapi"][service])).json()
            assert asyncapi["asyncapi"].startswith("3.")
            assert asyncapi["channels"], f"{service} documents no channel"
