"""The dashboard query: keyset pages that return every row exactly once, in a stable order."""

from __future__ import annotations

import pytest
from repositories_support import new_github_id, repository
from sqlalchemy import text

pytestmark = pytest.mark.integration


async def pages(client, **params: object) -> list[list[dict[str, object]]]:
    """Every page of ``GET /repositories``, following ``next_cursor`` to the end."""
    collected, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/repositories", params=query)
        assert answer.status_code == 200
        body = answer.json()
        collected.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return collected


async def test_keyset_pages_return_every_active_row_exactly_once(
    repositories_service, user, client
) -> None:
    items = []
    for n in range(130):
        github_id = new_github_id()
        # Every fifth name repeats another's (a repository deleted and re-created on GitHub
        # gets a new id under the same name), so the id has to break ties.
        name = f"r{n // 5 * 5 if n % 5 == 0 else n:03d}"
        owner = "zeta" if n % 2 else "Alpha"
        items.append({"action": "monitor", **repository(github_id, owner=owner, name=name)})
    created = (await client.post("/repositories/bulk", json={"items": items})).json()
    ids = [r["id"] for r in created["results"]]
    inactive = set(ids[::3])
    await client.post(
        "/repositories/bulk",
        json={"items": [{"action": "deactivate", "id": i} for i in sorted(inactive)]},
    )
    active_pages = await pages(client, limit=7)
    all_pages = await pages(client, limit=50, include_inactive="true")
    default_page = (await client.get("/repositories")).json()

    active_ids = [r["id"] for page in active_pages for r in page]
    assert len(active_ids) == len(set(active_ids)) == 130 - len(inactive)
    assert set(active_ids) == set(ids) - inactive
    assert all(r["is_active"] for page in active_pages for r in page)
    assert [len(page) for page in active_pages] == [7] * 12 + [2]

    every_id = [r["id"] for page in all_pages for r in page]
    assert sorted(every_id) == sorted(ids)
    assert {r["id"] for page in all_pages for r in page if not r["is_active"]} == inactive
    assert len(default_page["items"]) == 50
    assert default_page["next_cursor"] is not None

    async with repositories_service.sessions() as session:
        in_database_order = await session.scalars(
            text(
                "SELECT id::text FROM repositories WHERE user_id = :user_id AND is_active "
                "ORDER BY full_name, id"
            ),
            {"user_id": user},
        )
        assert active_ids == list(in_database_order)


async def test_a_cursor_from_another_query_still_just_names_a_position(
    repositories_service, new_user
) -> None:
    async with repositories_service.client_for(new_user()) as client:
        for _ in range(3):
            await client.post("/repositories", json=repository(owner="o"))
        first = (await client.get("/repositories", params={"limit": 1})).json()
    # Someone else's cursor reveals nothing: it only says where to start in *your* rows.
    async with repositories_service.client_for(new_user()) as stranger:
        answer = await stranger.get("/repositories", params={"cursor": first["next_cursor"]})
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "next_cursor": None}
