"""The real profiles consumer on the real Kafka and PostgreSQL, against topics of its own:
duplicates, replays, out-of-order activity, deleted users, reused GitHub accounts."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from profiles_support import (
    ALEMBIC_INI,
    ConsumerTopics,
    active,
    at,
    created,
    dead_letters,
    deleted,
    last_active_at,
    new_user_id,
    profiles_state,
    publish,
    record_profiles,
    scalar,
    updated,
    wait_caught_up,
)
from sqlalchemy import text

from codeflow_contracts import Envelope
from codeflow_messaging import (
    SessionFactory,
    create_engine,
    create_session_factory,
    transaction,
)
from codeflow_profiles.profiles import service
from codeflow_testing.databases import migrated_database
from codeflow_testing.erasures import run_with_a_repeat

pytestmark = pytest.mark.integration


async def test_every_event_delivered_twice_and_a_replay_from_the_start_leave_the_same_state(
    kafka_bootstrap_servers: str,
    postgres_url: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
) -> None:
    tag = uuid.uuid4().hex[:6]
    a, b, c, d, e_old, e_new = (new_user_id() for _ in range(6))
    x, y, lc, le = f"x-{tag}", f"y-{tag}", f"c-{tag}", f"e-{tag}"
    events = [
        created(a, 101, x, 0),
        created(b, 102, y, 1),
        created(c, 103, lc, 2),
        created(d, 104, f"d-{tag}", 3),
        active(a, 10),
        active(a, 5),
        active(b, 20),
        updated(a, 101, y, 30),  # A and B swap logins
        updated(b, 102, x, 31),
        updated(d, 104, lc, 40),  # C left lc without signing in again; D took it
        created(e_old, 105, le, 50),  # a user deleted in auth who signs in again ...
        created(e_new, 105, le, 60),  # ... comes back as a new user with the same account
        deleted(c),
        deleted(e_old),
    ]
    for _ in range(2):  # every message delivered twice
        await publish(kafka_bootstrap_servers, consumer_topics.events, events)

    first = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, first, consumer_topics)
    state = await profiles_state(profiles_sessions)

    assert state == {
        a: (101, y, at(30), at(0), at(30)),
        b: (102, x, at(31), at(1), at(31)),
        d: (104, lc, at(40), at(3), at(40)),
        e_new: (105, le, at(60), at(60), at(60)),
    }
    assert await scalar(profiles_sessions, "SELECT count(*) FROM outbox") == 2  # one ack each
    assert await dead_letters(kafka_bootstrap_servers, consumer_topics, first) == 0

    # A second group reads both topics from the beginning into a fresh database.
    async with migrated_database(postgres_url, ALEMBIC_INI, prefix="profiles_replay") as url:
        engine = create_engine(url)
        try:
            replay_sessions = create_session_factory(engine)
            second = await start_consumer(replay_sessions)
            await wait_caught_up(kafka_bootstrap_servers, second, consumer_topics)
            assert await profiles_state(replay_sessions) == state
            assert await dead_letters(kafka_bootstrap_servers, consumer_topics, second) == 0
        finally:
            await engine.dispose()


async def test_activity_of_a_user_without_a_profile_is_ignored_without_a_dead_letter(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
) -> None:
    stranger = new_user_id()
    await publish(kafka_bootstrap_servers, consumer_topics.events, [active(stranger, 1)])
    group = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    assert await scalar(profiles_sessions, "SELECT count(*) FROM user_profiles") == 0
    assert await dead_letters(kafka_bootstrap_servers, consumer_topics, group) == 0


async def test_a_user_created_event_arriving_after_the_deletion_does_not_bring_the_profile_back(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
) -> None:
    user = new_user_id()
    await publish(kafka_bootstrap_servers, consumer_topics.events, [deleted(user)])
    group = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)
    await publish(
        kafka_bootstrap_servers,
        consumer_topics.events,
        [created(user, 301, f"gone-{user}", 0), updated(user, 301, f"gone2-{user}", 1)],
    )
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    assert await scalar(profiles_sessions, "SELECT count(*) FROM user_profiles") == 0
    assert await scalar(profiles_sessions, "SELECT count(*) FROM login_claims") == 0
    assert await scalar(profiles_sessions, "SELECT count(*) FROM outbox") == 1  # acknowledged


async def test_a_github_account_reused_by_a_new_user_before_the_old_deletion_arrives(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
) -> None:
    old, new = new_user_id(), new_user_id()
    group = await start_consumer(profiles_sessions)
    # The new user's creation is applied first; the old user's stale creation after it.
    await publish(kafka_bootstrap_servers, consumer_topics.events, [created(new, 401, "n", 60)])
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)
    await publish(kafka_bootstrap_servers, consumer_topics.events, [created(old, 401, "o", 50)])
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    state = await profiles_state(profiles_sessions)
    assert state[new][0] == 401
    assert state[old][0] is None  # a newer user holds the account
    assert await dead_letters(kafka_bootstrap_servers, consumer_topics, group) == 0


async def test_a_backlog_of_activity_leaves_every_user_at_their_latest_activity(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    users = [new_user_id() for _ in range(20)]
    stranger = new_user_id()
    await publish(
        kafka_bootstrap_servers,
        consumer_topics.events,
        [created(user, 500 + n, f"busy-{user}", 0) for n, user in enumerate(users)],
    )
    # Each user's activity out of order, the users interleaved: runs of UserActive that a
    # batch applies together.
    minutes = [7, 3, 9, 1, 8]
    backlog = [active(user, minute) for minute in minutes for user in users]
    await publish(kafka_bootstrap_servers, consumer_topics.events, [*backlog, active(stranger, 4)])
    group = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    state = await profiles_state(profiles_sessions)
    assert {user: state[user][2] for user in users} == {user: at(9) for user in users}
    assert stranger not in state
    assert await dead_letters(kafka_bootstrap_servers, consumer_topics, group) == 0
    # Applied batch by batch: no batch failed over to handling its records one at a time.
    assert [r.getMessage() for r in caplog.records if r.name == "codeflow.consumer"] == []


def out_of_order_activity(user: str) -> list[list[Envelope[Any]]]:
    """Activity out of order, the latest delivered twice: it stays at the latest, minute 30."""
    latest = active(user, 30)
    return [
        [created(user, 201, f"active-{user}", 0), active(user, 10), latest, active(user, 20)],
        [active(user, 5), latest],
    ]


def activity_around_the_creation(user: str) -> list[list[Envelope[Any]]]:
    """Activity before the profile exists is ignored, activity after it counts: applying the
    runs of UserActive out of order would end at minute 0 or 50, not 10."""
    return [[active(user, 50), created(user, 601, f"late-{user}", 0), active(user, 10)]]


@pytest.mark.parametrize(
    ("batches", "latest_minute"),
    [
        pytest.param(out_of_order_activity, 30, id="never-moves-back-on-out-of-order-activity"),
        pytest.param(
            activity_around_the_creation, 10, id="activity-around-the-creation-in-published-order"
        ),
    ],
)
async def test_last_active_at_is_the_latest_activity_applied_in_the_order_published(
    kafka_bootstrap_servers: str,
    profiles_sessions: SessionFactory,
    consumer_topics: ConsumerTopics,
    start_consumer,
    batches: Callable[[str], list[list[Envelope[Any]]]],
    latest_minute: float,
) -> None:
    user = new_user_id()
    for batch in batches(user):
        await publish(kafka_bootstrap_servers, consumer_topics.events, batch)
    group = await start_consumer(profiles_sessions)
    await wait_caught_up(kafka_bootstrap_servers, group, consumer_topics)

    last_active = await last_active_at(profiles_sessions, user)
    assert last_active == at(latest_minute)


async def test_a_run_of_activity_moves_each_user_to_their_latest_activity_and_never_back(
    profiles_sessions: SessionFactory,
) -> None:
    amy, bob, cat, stranger = (new_user_id() for _ in range(4))
    await record_profiles(profiles_sessions, (amy, bob, cat), first_github_id=700)
    async with transaction(profiles_sessions) as session:
        await service.record_activity(session, cat, at(100))

    async with transaction(profiles_sessions) as session:
        await service.record_activities(
            session, [(amy, at(5)), (bob, at(7)), (amy, at(9)), (cat, at(50)), (stranger, at(3))]
        )

    state = await profiles_state(profiles_sessions)
    assert {user: state[user][2] for user in state} == {amy: at(9), bob: at(7), cat: at(100)}


async def test_a_run_of_deletions_is_carried_out_as_one_command_each_would_be(
    profiles_sessions: SessionFactory,
) -> None:
    amy, bob, already_gone, bystander = (new_user_id() for _ in range(4))
    await record_profiles(profiles_sessions, (amy, bob, bystander), first_github_id=800)
    run = run_with_a_repeat(amy, bob, already_gone)

    async with transaction(profiles_sessions) as session:
        await service.delete_users_data(session, run)

    assert set(await profiles_state(profiles_sessions)) >= {bystander}
    assert not set(await profiles_state(profiles_sessions)) & {amy, bob, already_gone}
    claims = "SELECT count(*) FROM login_claims WHERE user_id = ANY(:ids)"
    assert await scalar(profiles_sessions, claims, ids=[amy, bob]) == 0
    assert await scalar(profiles_sessions, claims, ids=[bystander]) == 1
    tombstones = "SELECT count(*) FROM deleted_users WHERE user_id = ANY(:ids)"
    assert await scalar(profiles_sessions, tombstones, ids=[amy, bob, already_gone]) == 3
    async with profiles_sessions() as session:
        acknowledgements = (
            await session.execute(
                text(
                    "SELECT payload->'data'->>'user_id', payload->'data'->>'deletion_id' "
                    "FROM outbox WHERE message_type = 'codeflow.user.data-deleted.v1' "
                    "AND key = ANY(:ids) ORDER BY id"
                ),
                {"ids": [amy, bob, already_gone]},
            )
        ).all()
    # One acknowledgement per command, in the order of the run, the re-sent one included.
    assert [tuple(row) for row in acknowledgements] == [(u, str(d)) for u, d in run]
