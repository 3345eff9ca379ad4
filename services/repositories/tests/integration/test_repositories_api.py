"""Monitoring, switching and removing repositories over HTTP, and the events that records."""

from __future__ import annotations

import asyncio

import pytest
from repositories_support import (
    GITHUB,
    changes,
    full_name,
    monitored,
    outbox_events,
    repository,
    rows_of,
)

pytestmark = pytest.mark.integration


async def test_monitoring_a_repository_answers_201_and_emits_monitored(
    repositories_service, user, client
) -> None:
    body = repository()
    created = await client.post("/repositories", json=body)
    assert created.status_code == 201
    answer = created.json()
    assert {k: answer[k] for k in body} == body
    assert answer["is_active"] is True
    events = await outbox_events(repositories_service.sessions, user)
    assert changes(events) == [(answer["id"], "monitored")]
    assert events[0]["subject"] == user
    assert events[0]["data"]["github_id"] == body["github_id"]
    assert events[0]["data"]["full_name"] == full_name(body) == answer["full_name"]


async def test_monitoring_again_answers_200_and_reactivates_the_same_row(
    repositories_service, user, client
) -> None:
    body = repository()
    first = (await client.post("/repositories", json=body)).json()
    again = await client.post("/repositories", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert (await client.delete(f"/repositories/{first['id']}")).status_code == 204
    GITHUB.rename(body["github_id"], "renamed")
    reactivated = await client.post("/repositories", json=body)
    assert reactivated.status_code == 200
    assert reactivated.json()["id"] == first["id"]
    assert reactivated.json()["is_active"] is True
    assert reactivated.json()["full_name"] == "octocat/renamed"
    assert len(await rows_of(repositories_service.sessions, user)) == 1
    # Monitoring an active repository again changes nothing, so it emits nothing.
    assert changes(await outbox_events(repositories_service.sessions, user)) == [
        (first["id"], "monitored"),
        (first["id"], "deleted"),
        (first["id"], "activated"),
    ]


async def test_patch_switches_monitoring_and_emits_only_real_changes(
    repositories_service, user, client
) -> None:
    repo_id = (await monitored(client))["id"]
    off = await client.patch(f"/repositories/{repo_id}", json={"is_active": False})
    off_again = await client.patch(f"/repositories/{repo_id}", json={"is_active": False})
    on = await client.patch(f"/repositories/{repo_id}", json={"is_active": True})
    assert [off.status_code, off_again.status_code, on.status_code] == [200, 200, 200]
    assert [off.json()["is_active"], on.json()["is_active"]] == [False, True]
    events = await outbox_events(repositories_service.sessions, user)
    assert changes(events) == [
        (repo_id, "monitored"),
        (repo_id, "deactivated"),
        (repo_id, "activated"),
    ]
    assert [e["data"]["is_active"] for e in events] == [True, False, True]


async def test_delete_is_a_soft_delete_that_only_include_inactive_still_lists(
    repositories_service, user, client
) -> None:
    kept = await monitored(client)
    removed = await monitored(client)
    assert (await client.delete(f"/repositories/{removed['id']}")).status_code == 204
    assert (await client.delete(f"/repositories/{removed['id']}")).status_code == 204
    active = (await client.get("/repositories")).json()
    everything = (await client.get("/repositories", params={"include_inactive": True})).json()
    assert [r["id"] for r in active["items"]] == [kept["id"]]
    assert {r["id"]: r["is_active"] for r in everything["items"]} == {
        kept["id"]: True,
        removed["id"]: False,
    }
    assert set(everything["items"][0]) == {
        "id",
        "github_id",
        "full_name",
        "owner",
        "name",
        "is_active",
        "description",
        "visibility",
        "default_branch",
        "pushed_at",
        "stargazers_count",
        "html_url",
        "github_state",
        "refreshed_at",
    }
    rows = await rows_of(repositories_service.sessions, user)
    assert rows[removed["id"]][2] is False
    # The second DELETE found the row switched off already: one event, not two.
    assert changes(await outbox_events(repositories_service.sessions, user))[-1:] == [
        (removed["id"], "deleted")
    ]
    assert len(changes(await outbox_events(repositories_service.sessions, user))) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"full_name": "someone/else"}, "body.full_name"),
        ({"owner": "octocat"}, "body.owner"),
        ({"github_id": 0}, "body.github_id"),
        ({"github_id": 2**63}, "body.github_id"),
        ({"github_id": "1"}, "body.github_id"),
        ({"extra": True}, "body.extra"),
    ],
)
async def test_bad_input_is_a_422_problem_naming_the_field(client, change, field) -> None:
    answer = await client.post("/repositories", json={**repository(), **change})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in answer.json()["errors"]]


async def test_bad_query_and_path_values_are_422_problems_naming_them(client) -> None:
    answers = {
        "query.limit": await client.get("/repositories", params={"limit": 201}),
        "query.cursor": await client.get("/repositories", params={"cursor": "not-ours"}),
        "path.repository_id": await client.patch(
            "/repositories/not-a-uuid", json={"is_active": True}
        ),
    }
    for field, answer in answers.items():
        assert answer.status_code == 422, field
        assert field in [error["field"] for error in answer.json()["errors"]]


async def test_an_unknown_repository_is_404(client) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    patched = await client.patch(f"/repositories/{missing}", json={"is_active": True})
    deleted = await client.delete(f"/repositories/{missing}")
    assert patched.status_code == deleted.status_code == 404
    assert patched.json()["type"] == "urn:codeflow:problem:repository-not-found"


async def test_every_endpoint_refuses_a_caller_without_a_valid_token(repositories_service) -> None:
    some_id = "00000000-0000-4000-8000-000000000000"
    async with repositories_service.client_for(None) as anonymous:
        answers = [
            await anonymous.get("/repositories"),
            await anonymous.post("/repositories", json=repository()),
            await anonymous.patch(f"/repositories/{some_id}", json={"is_active": True}),
            await anonymous.delete(f"/repositories/{some_id}"),
            await anonymous.post("/repositories/bulk", json={"items": []}),
            await anonymous.get("/repositories", headers={"Authorization": "Bearer forged"}),
        ]
    assert [a.status_code for a in answers] == [401] * len(answers)
    assert all(a.headers["www-authenticate"].startswith("Bearer") for a in answers)


async def test_concurrent_monitoring_of_one_repository_makes_one_row_and_one_event(
    repositories_service, user, client
) -> None:
    body = repository()
    answers = await asyncio.gather(*(client.post("/repositories", json=body) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(await rows_of(repositories_service.sessions, user)) == 1
    assert [c for _, c in changes(await outbox_events(repositories_service.sessions, user))] == [
        "monitored"
    ]
