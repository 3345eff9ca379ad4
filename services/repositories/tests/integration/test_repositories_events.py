"""The events that reach Kafka are the changes the API made: one per changed row, in order."""

from __future__ import annotations

import pytest
from repositories_support import changes, outbox_drained, outbox_events, repository

from codeflow_contracts import RepositoryMonitoringChanged, parse_envelope
from codeflow_contracts.topics import REPOSITORY_EVENTS
from codeflow_testing.kafka import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_every_change_reaches_kafka_once_in_order_and_no_change_emits_nothing(
    repositories_service, user, client, kafka_bootstrap_servers: str
) -> None:
    body = repository()
    repo_id = (await client.post("/repositories", json=body)).json()["id"]
    await client.post("/repositories", json=body)  # no change
    await client.patch(f"/repositories/{repo_id}", json={"is_active": False})
    await client.patch(f"/repositories/{repo_id}", json={"is_active": False})  # no change
    await client.post("/repositories/bulk", json={"items": [{"action": "activate", "id": repo_id}]})
    await client.delete(f"/repositories/{repo_id}")
    await outbox_drained(repositories_service.sessions)

    records = await read_topic(kafka_bootstrap_servers, REPOSITORY_EVENTS)
    published = [parse_envelope(r.value) for r in records if r.key == user.encode()]
    assert [(str(e.data.repository_id), e.data.change) for e in published] == [
        (repo_id, "monitored"),
        (repo_id, "deactivated"),
        (repo_id, "activated"),
        (repo_id, "deleted"),
    ]
    assert all(isinstance(e.data, RepositoryMonitoringChanged) for e in published)
    assert [e.data.is_active for e in published] == [True, False, True, False]
    assert {(e.source, e.subject, e.data.github_id) for e in published} == {
        ("codeflow/repositories", user, body["github_id"])
    }
    assert changes(await outbox_events(repositories_service.sessions, user)) == [
        (str(e.data.repository_id), e.data.change) for e in published
    ]
