"""Writes that race a user's erasure: once repositories has deleted a user's data, a request
still carrying their JWT (valid for a few more minutes) changes nothing and is told why."""

from __future__ import annotations

import uuid

import pytest
from repositories_support import monitored, repository, rows_of

from codeflow_repositories.repositories import service

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ERASED = "urn:codeflow:problem:user-erased"


async def erase(repositories_service, user_id: str) -> None:  # type: ignore[no-untyped-def]
    async with repositories_service.sessions() as session, session.begin():
        await service.delete_users_data(session, [(user_id, uuid.uuid4())])


async def test_monitoring_with_the_token_of_an_erased_user_is_refused_and_stores_nothing(
    repositories_service, user, client
) -> None:
    kept = await monitored(client)
    await erase(repositories_service, user)

    single = await client.post("/repositories", json=repository())
    bulk = await client.post(
        "/repositories/bulk",
        json={"items": [{"action": "monitor", **repository()}]},
    )
    switch = await client.patch(f"/repositories/{kept['id']}", json={"is_active": False})

    for response in (single, bulk):
        assert response.status_code == 410, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == ERASED
    assert switch.status_code in {404, 410}
    assert await rows_of(repositories_service.sessions, user) == {}


async def test_other_users_keep_writing_while_someone_is_erased(
    repositories_service, new_user
) -> None:
    leaving, staying = new_user(), new_user()
    await erase(repositories_service, leaving)

    async with repositories_service.client_for(staying) as client:
        response = await client.post("/repositories", json=repository())

    assert response.status_code == 201
    assert len(await rows_of(repositories_service.sessions, staying)) == 1
