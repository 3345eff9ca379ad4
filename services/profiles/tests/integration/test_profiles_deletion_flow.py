"""The running service on the real topics: profiles arrive from auth's events, and auth's
``UserDeleted`` removes one user's data and is acknowledged on the acks topic."""

from __future__ import annotations

import uuid

import pytest
from profiles_support import created, deleted, new_user_id, publish, scalar

from codeflow_contracts import parse_envelope
from codeflow_contracts.topics import USER_DELETION_ACKS, USER_EVENTS
from codeflow_messaging import SessionFactory
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def profile_count(sessions: SessionFactory, user_id: str) -> int:
    sql = "SELECT count(*) FROM user_profiles WHERE user_id = :u"
    return int(await scalar(sessions, sql, u=user_id))


async def test_an_erasure_removes_only_that_user_and_is_acknowledged_once(
    profiles_url: str, profiles_sessions: SessionFactory, kafka_bootstrap_servers: str
) -> None:
    leaving, staying = new_user_id(), new_user_id()
    await publish(
        kafka_bootstrap_servers,
        USER_EVENTS,
        [created(leaving, 9001, f"l-{leaving}", 0), created(staying, 9002, f"s-{staying}", 0)],
    )

    async def both_arrived() -> bool:
        return await scalar(profiles_sessions, "SELECT count(*) FROM user_profiles") == 2

    await wait_until(both_arrived, timeout=30, what="both profiles to be created")

    deletion_id = uuid.uuid4()
    erasure = deleted(leaving, deletion_id)
    await publish(kafka_bootstrap_servers, USER_EVENTS, [erasure, erasure])

    async def acknowledged() -> bool:
        published = "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
        return await scalar(profiles_sessions, published) == 1

    await wait_until(acknowledged, timeout=30, what="the deletion to be acknowledged")
    assert await profile_count(profiles_sessions, leaving) == 0
    assert (
        await scalar(
            profiles_sessions, "SELECT count(*) FROM login_claims WHERE user_id = :u", u=leaving
        )
        == 0
    )
    assert await profile_count(profiles_sessions, staying) == 1
    acks = [
        envelope
        for envelope in map(
            parse_envelope,
            [r.value for r in await read_topic(kafka_bootstrap_servers, USER_DELETION_ACKS)],
        )
        # Another service consuming the same topic in the same test session (repositories'
        # is served for the whole session) acknowledges the same deletion for itself.
        if envelope.data.deletion_id == deletion_id and envelope.data.service == "profiles"
    ]
    assert len(acks) == 1  # the duplicate was dropped by the inbox
    assert acks[0].subject == leaving
