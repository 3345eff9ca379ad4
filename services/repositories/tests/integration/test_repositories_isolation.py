"""One user's repositories are invisible and untouchable to every other user."""

from __future__ import annotations

import pytest
from repositories_support import changes, outbox_events, repository, rows_of

from codeflow_identity import TokenIssuer

pytestmark = pytest.mark.integration


async def test_user_b_can_neither_see_nor_change_nor_delete_user_a_repositories(
    repositories_service, new_user
) -> None:
    alice, bob = new_user(), new_user()
    shared = repository()  # both may monitor the same GitHub repository
    async with (
        repositories_service.client_for(alice) as a,
        repositories_service.client_for(bob) as b,
    ):
        alices = [(await a.post("/repositories", json=repository())).json() for _ in range(2)]
        alices.append((await a.post("/repositories", json=shared)).json())
        before = await rows_of(repositories_service.sessions, alice)

        assert (await b.get("/repositories", params={"include_inactive": True})).json() == {
            "items": [],
            "next_cursor": None,
        }
        for repo in alices:
            patched = await b.patch(f"/repositories/{repo['id']}", json={"is_active": False})
            deleted = await b.delete(f"/repositories/{repo['id']}")
            assert (patched.status_code, deleted.status_code) == (404, 404)
        bulk = await b.post(
            "/repositories/bulk",
            json={"items": [{"action": "deactivate", "id": alices[0]["id"]}]},
        )
        assert bulk.status_code == 422
        assert bulk.json()["index"] == 0

        bobs_copy = await b.post("/repositories", json=shared)
        assert bobs_copy.status_code == 201
        assert bobs_copy.json()["id"] != alices[2]["id"]
        listed = (await a.get("/repositories")).json()["items"]

    assert await rows_of(repositories_service.sessions, alice) == before
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in alices)
    assert changes(await outbox_events(repositories_service.sessions, bob)) == [
        (bobs_copy.json()["id"], "monitored")
    ]


async def test_only_a_token_for_repositories_is_accepted(repositories_service, new_user) -> None:
    """Same key, same issuer, same user: a token auth issued for another service (or for
    every service, as the shared audience once was) is refused."""
    keyset, issuer = repositories_service.tokens.keyset, repositories_service.tokens.issuer
    user = new_user()

    def token(audience: str) -> dict[str, str]:
        signed = TokenIssuer(keyset, issuer.issuer, audience).issue(user)
        return {"Authorization": f"Bearer {signed}"}

    async with repositories_service.client_for(None) as client:
        mine = await client.get("/repositories", headers=token("codeflow-repositories"))
        for audience in ("codeflow-profiles", "codeflow-janitor", "codeflow"):
            refused = await client.get("/repositories", headers=token(audience))
            assert refused.status_code == 401, audience
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert mine.status_code == 200
