"""Rebuilding profiles from auth: a ``UserRestated`` brings back a profile whose events were
lost (a consumer position expired under retention), and never an erased one."""

from __future__ import annotations

import uuid

import pytest
from profiles_support import at, created, new_user_id, profiles_state, publish, wait_caught_up

from codeflow_contracts import UserRestated, new_envelope
from codeflow_messaging import SessionFactory, transaction
from codeflow_profiles.profiles import service

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def restated(user_id: str, github_id: int, login: str, *, active: float) -> object:
    return new_envelope(
        UserRestated(
            user_id=user_id,
            github_id=github_id,
            login=login,
            last_active_at=at(active),
            restated_at=at(100),
        ),
        source="codeflow/auth",
    )


async def test_a_restatement_rebuilds_a_lost_profile_and_leaves_an_erased_one_erased(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics,  # type: ignore[no-untyped-def]
    start_consumer,  # type: ignore[no-untyped-def]
) -> None:
    lost, known, erased = new_user_id(), new_user_id(), new_user_id()
    tag = uuid.uuid4().hex[:6]
    await publish(
        kafka_bootstrap_servers, consumer_topics.events, [created(known, 2, f"k-{tag}", 1)]
    )
    async with transaction(profiles_sessions) as s:
        await service.delete_users_data(s, [(erased, uuid.uuid4())])
    # The lost user's UserCreated never arrived (expired before this group read it).
    await publish(
        kafka_bootstrap_servers,
        consumer_topics.events,
        [
            restated(lost, 1, f"l-{tag}", active=50),
            restated(known, 2, f"k2-{tag}", active=60),  # renamed meanwhile
            restated(erased, 3, f"e-{tag}", active=70),
        ],
    )
    group = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    state = await profiles_state(profiles_sessions)
    assert set(state) == {lost, known}
    # (github_id, username, last_active_at, created_at, identity_updated_at): the lost one
    # is back with auth's last activity, not with the time of the restatement.
    assert state[lost] == (1, f"l-{tag}", at(50), at(50), at(100))
    assert state[known] == (2, f"k2-{tag}", at(60), at(1), at(100))
