"""``POST /repositories/bulk``: up to 500 items in one transaction, all of them or none."""

from __future__ import annotations

import pytest
from repositories_support import (
    changes,
    monitored,
    new_github_id,
    outbox_events,
    repository,
    rows_of,
)

pytestmark = pytest.mark.integration


def monitor(**overrides: object) -> dict[str, object]:
    return {"action": "monitor", **repository(), **overrides}


async def test_a_bulk_request_applies_every_item_and_emits_one_event_per_changed_row(
    repositories_service, user, client
) -> None:
    on = await monitored(client)
    off = await monitored(client)
    await client.patch(f"/repositories/{off['id']}", json={"is_active": False})
    untouched = await monitored(client)
    known = {"github_id": untouched["github_id"]}
    answer = await client.post(
        "/repositories/bulk",
        json={
            "items": [
                {"action": "deactivate", "id": on["id"]},
                {"action": "activate", "id": off["id"]},
                {"action": "monitor", **known},
                monitor(),
            ]
        },
    )
    assert answer.status_code == 200
    result = answer.json()
    assert [r["outcome"] for r in result["results"]] == [
        "deactivated",
        "activated",
        "unchanged",
        "monitored",
    ]
    assert result["changed"] == 3
    new_id = result["results"][3]["id"]
    rows = await rows_of(repositories_service.sessions, user)
    assert {i: row[2] for i, row in rows.items()} == {
        on["id"]: False,
        off["id"]: True,
        untouched["id"]: True,
        new_id: True,
    }
    assert changes(await outbox_events(repositories_service.sessions, user))[-3:] == [
        (on["id"], "deactivated"),
        (off["id"], "activated"),
        (new_id, "monitored"),
    ]


async def test_five_hundred_new_repositories_are_monitored_in_one_request(
    repositories_service, user, client
) -> None:
    answer = await client.post(
        "/repositories/bulk", json={"items": [monitor() for _ in range(500)]}
    )
    too_many = await client.post(
        "/repositories/bulk", json={"items": [monitor() for _ in range(501)]}
    )
    assert answer.status_code == 200
    assert answer.json()["changed"] == 500
    assert len(await rows_of(repositories_service.sessions, user)) == 500
    assert len(changes(await outbox_events(repositories_service.sessions, user))) == 500
    assert too_many.status_code == 422
    assert "body.items" in [e["field"] for e in too_many.json()["errors"]]


BAD_ITEMS = {
    "unknown id first": (0, lambda ex, items: {"action": "activate", "id": UNKNOWN}),
    "unknown id last": (7, lambda ex, items: {"action": "activate", "id": UNKNOWN}),
    "same id twice": (4, lambda ex, items: {"action": "activate", "id": ex[0]["id"]}),
    "same GitHub id twice": (6, lambda ex, items: items[2]),
    "id, then GitHub id": (3, lambda ex, items: {"action": "monitor", **identity(ex[1])}),
    "invalid field": (5, lambda ex, items: monitor(full_name="octocat/not-the-name")),
    "not on GitHub": (6, lambda ex, items: {"action": "monitor", "github_id": new_github_id()}),
}
UNKNOWN = "00000000-0000-4000-8000-000000000000"
REASONS = {"not on GitHub": "repository-not-found", "unknown id first": "repository-not-found"}


def identity(repo: dict[str, object]) -> dict[str, object]:
    return {"github_id": repo["github_id"]}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
async def test_one_bad_item_rolls_back_the_whole_request(
    repositories_service, user, client, case
) -> None:
    bad_at, make_bad = BAD_ITEMS[case]
    existing = [await monitored(client) for _ in range(4)]
    before = await rows_of(repositories_service.sessions, user)
    events_before = await outbox_events(repositories_service.sessions, user)
    items: list[dict[str, object]] = [
        {"action": "deactivate", "id": existing[0]["id"]},
        {"action": "deactivate", "id": existing[1]["id"]},
        monitor(),
        monitor(),
        {"action": "deactivate", "id": existing[2]["id"]},
        monitor(),
        monitor(),
        {"action": "deactivate", "id": existing[3]["id"]},
    ]
    items[bad_at] = make_bad(existing, items)
    answer = await client.post("/repositories/bulk", json={"items": items})

    assert answer.status_code == 422
    problem = answer.json()
    if case == "invalid field":
        assert f"body.items.{bad_at}.monitor.full_name" in [e["field"] for e in problem["errors"]]
    else:
        assert problem["type"] == "urn:codeflow:problem:bulk-item-rejected"
        assert (problem["index"], problem["field"]) == (bad_at, f"body.items.{bad_at}")
        assert problem["reason"] == REASONS.get(case, problem["reason"])
    assert await rows_of(repositories_service.sessions, user) == before
    assert await outbox_events(repositories_service.sessions, user) == events_before


async def test_an_empty_bulk_request_is_refused(client) -> None:
    answer = await client.post("/repositories/bulk", json={"items": []})
    assert answer.status_code == 422
