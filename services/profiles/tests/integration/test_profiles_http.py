"""The HTTP API of a running profiles service: who may see what, and how errors look."""

from __future__ import annotations

import httpx
import pytest
from profiles_support import at, new_user_id

from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles.domain import GitHubIdentity
from codeflow_profiles.profiles.service import record_activity, record_identity
from codeflow_testing.tokens import TestTokens

pytestmark = pytest.mark.integration


async def add_profile(sessions: SessionFactory, user_id: str, github_id: int, login: str) -> None:
    async with transaction(sessions) as session:
        await record_identity(session, GitHubIdentity(user_id, github_id, login, at(0)))
        await record_activity(session, user_id, at(90))


async def test_a_request_without_a_valid_jwt_gets_401(
    profiles_url: str, profiles_sessions: SessionFactory
) -> None:
    await add_profile(profiles_sessions, new_user_id(), 7, "octocat")
    # Right shape, but signed by a key the service doesn't trust.
    other_issuer = TestTokens(service="profiles")
    async with httpx.AsyncClient(base_url=profiles_url) as client:
        for path in ("/profiles/me", "/profiles/octocat"):
            missing = await client.get(path)
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"] == "Bearer"
            assert missing.headers["content-type"] == "application/problem+json"
            forged = await client.get(path, headers=other_issuer.headers_for("someone"))
            assert forged.status_code == 401
            assert 'error="invalid_token"' in forged.headers["www-authenticate"]
            garbage = await client.get(path, headers={"Authorization": "Bearer not.a.jwt"})
            assert garbage.status_code == 401


async def test_my_profile_is_the_callers_own_with_every_field(
    profiles_url: str, profiles_sessions: SessionFactory, tokens: TestTokens
) -> None:
    alice, bob = new_user_id(), new_user_id()
    await add_profile(profiles_sessions, alice, 11, "alice")
    await add_profile(profiles_sessions, bob, 12, "bob")
    async with httpx.AsyncClient(base_url=profiles_url) as client:
        mine = await client.get("/profiles/me", headers=tokens.headers_for(alice))
        theirs = await client.get("/profiles/me", headers=tokens.headers_for(bob))

    assert mine.status_code == 200
    body = mine.json()
    assert set(body) == {
        "id",
        "user_id",
        "github_id",
        "username",
        "last_active_at",
        "created_at",
        "updated_at",
    }
    assert (body["user_id"], body["github_id"], body["username"]) == (alice, 11, "alice")
    assert body["last_active_at"] == "2026-01-01T01:30:00Z"
    assert theirs.json()["user_id"] == bob


async def test_my_profile_is_404_until_the_user_created_event_has_arrived(
    profiles_url: str, tokens: TestTokens
) -> None:
    async with httpx.AsyncClient(base_url=profiles_url) as client:
        response = await client.get("/profiles/me", headers=tokens.headers_for(new_user_id()))
    assert response.status_code == 404
    assert response.json()["type"] == "urn:codeflow:problem:profile-not-found"


async def test_the_public_view_of_another_user_hides_their_user_id_and_activity(
    profiles_url: str, profiles_sessions: SessionFactory, tokens: TestTokens
) -> None:
    alice, bob = new_user_id(), new_user_id()
    await add_profile(profiles_sessions, alice, 21, "alice")
    async with httpx.AsyncClient(base_url=profiles_url) as client:
        response = await client.get("/profiles/alice", headers=tokens.headers_for(bob))
        unknown = await client.get("/profiles/nobody", headers=tokens.headers_for(bob))

    assert response.status_code == 200
    assert response.json() == {
        "username": "alice",
        "github_id": 21,
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert alice not in response.text
    assert unknown.status_code == 404


async def test_a_username_that_is_no_github_login_gets_a_422_naming_the_field(
    profiles_url: str, tokens: TestTokens
) -> None:
    async with httpx.AsyncClient(base_url=profiles_url) as client:
        for bad in ("not%20a%20login", "a" * 256, "%00", "~u123"):
            response = await client.get(f"/profiles/{bad}", headers=tokens.headers_for("u1"))
            assert response.status_code == 422, bad
            assert response.json()["errors"][0]["field"] == "path.username"
