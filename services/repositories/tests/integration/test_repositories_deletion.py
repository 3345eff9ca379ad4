"""Auth's ``UserDeleted``: every row of the user goes, other users' stay, and the ack goes
out, one per erasure, also when a run of them is carried out at once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from repositories_support import outbox_drained, outbox_events, repository, rows_of, scalar

from codeflow_contracts import Envelope, UserDeleted, new_envelope, parse_envelope, to_json_bytes
from codeflow_contracts.topics import USER_DELETION_ACKS, USER_EVENTS
from codeflow_repositories.repositories import service
from codeflow_testing.erasures import run_with_a_repeat
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def send(bootstrap_servers: str, *envelopes: Envelope[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                USER_EVENTS, to_json_bytes(envelope), key=envelope.kafka_key
            )
    finally:
        await producer.stop()


async def acks_for(bootstrap_servers: str, deletion_id: uuid.UUID) -> list[Envelope[Any]]:
    records = await read_topic(bootstrap_servers, USER_DELETION_ACKS)
    envelopes = [parse_envelope(r.value) for r in records]
    return [e for e in envelopes if e.data.deletion_id == deletion_id]


def erasure(user_id: str, deletion_id: uuid.UUID) -> Envelope[Any]:
    event = UserDeleted(
        deletion_id=deletion_id,
        user_id=user_id,
        reason="inactive",
        deleted_at=datetime.now(UTC),
    )
    return new_envelope(event, source="codeflow/auth")


async def test_an_erasure_removes_every_row_of_the_user_and_is_acknowledged_once_per_erasure(
    repositories_service, new_user, kafka_bootstrap_servers: str
) -> None:
    doomed, bystander = new_user(), new_user()
    shared = repository()
    async with repositories_service.client_for(doomed) as client:
        for _ in range(3):
            await client.post("/repositories", json=repository())
        removed = (await client.post("/repositories", json=shared)).json()
        await client.delete(f"/repositories/{removed['id']}")  # soft-deleted rows go too
    async with repositories_service.client_for(bystander) as client:
        await client.post("/repositories", json=shared)
        await client.post("/repositories", json=repository())
    bystanders_rows = await rows_of(repositories_service.sessions, bystander)
    sessions = repositories_service.sessions

    deletion_id = uuid.uuid4()
    command = erasure(doomed, deletion_id)
    # The same envelope twice (a redelivery) and a second erasure of the user (a new
    # envelope, as auth sends for a command it gets again): the state ends the same, and
    # each erasure is acknowledged.
    await send(kafka_bootstrap_servers, command, command, erasure(doomed, deletion_id))

    async def all_handled() -> bool:
        handled = await scalar(
            sessions,
            "SELECT count(*) FROM outbox WHERE key = :user_id "
            "AND message_type = 'codeflow.user.data-deleted.v1'",
            user_id=doomed,
        )
        return bool(handled == 2)

    await wait_until(all_handled, timeout=60, what="both erasures to be handled")
    assert await rows_of(sessions, doomed) == {}
    assert await rows_of(sessions, bystander) == bystanders_rows
    await outbox_drained(sessions)
    acks = await acks_for(kafka_bootstrap_servers, deletion_id)
    assert len(acks) == 2
    assert {(a.subject, a.data.user_id, a.data.service) for a in acks} == {
        (doomed, doomed, "repositories")
    }
    assert (
        await scalar(
            sessions,
            "SELECT count(*) FROM processed_events WHERE message_id = :message_id",
            message_id=command.id,
        )
        == 1
    )


async def test_a_run_of_erasures_is_carried_out_as_one_at_a_time_would_be(
    repositories_service, new_user
) -> None:
    doomed, also_doomed, already_gone, bystander = new_user(), new_user(), new_user(), new_user()
    for user, count in ((doomed, 3), (also_doomed, 2), (bystander, 2)):
        async with repositories_service.client_for(user) as client:
            for _ in range(count):
                await client.post("/repositories", json=repository())
    sessions = repositories_service.sessions
    bystanders_rows = await rows_of(sessions, bystander)
    run = run_with_a_repeat(doomed, also_doomed, already_gone)

    async with sessions() as session, session.begin():
        await service.delete_users_data(session, run)

    for user in (doomed, also_doomed, already_gone):
        assert await rows_of(sessions, user) == {}
    assert await rows_of(sessions, bystander) == bystanders_rows
    queued = [
        parse_envelope(json.dumps(payload).encode())
        for user in (doomed, also_doomed, already_gone, bystander)
        for payload in await outbox_events(sessions, user)
        if payload["type"] == "codeflow.user.data-deleted.v1"
    ]
    # One acknowledgement per erasure, the repeated one included.
    assert sorted((a.data.user_id, a.data.deletion_id) for a in queued) == sorted(run)
    assert {a.data.service for a in queued} == {"repositories"}
