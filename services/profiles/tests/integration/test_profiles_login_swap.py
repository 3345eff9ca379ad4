"""GitHub logins change hands between users; whatever order the events arrive in, the
consumer never wedges on the unique username and the newest holder ends with the name."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from profiles_support import (
    created,
    dead_letters,
    new_topics,
    new_user_id,
    publish,
    updated,
    usernames,
    wait_caught_up,
)

from codeflow_contracts import Envelope
from codeflow_messaging import SessionFactory

pytestmark = pytest.mark.integration

Scenario = tuple[list[Envelope[Any]], dict[str, str | None]]


def swap(n: int) -> Scenario:
    """A had X and B had Y; both renamed and signed in again: A is now Y, B is X."""
    a, b = new_user_id(), new_user_id()
    x, y = f"x{n}", f"y{n}"
    events = [created(a, 1000 + n, x, 0), created(b, 2000 + n, y, 1)]
    events += [updated(a, 1000 + n, y, 10), updated(b, 2000 + n, x, 11)]
    return events, {a: y, b: x}


def taken_from_an_absent_user(n: int) -> Scenario:
    """A renamed away from X and hasn't signed in since; B, new, took X."""
    a, b = new_user_id(), new_user_id()
    x = f"t{n}"
    return [created(a, 3000 + n, x, 0), created(b, 4000 + n, x, 5)], {a: None, b: x}


def taken_and_left_again(n: int) -> Scenario:
    """A had X; B took X, then renamed on to Z: nobody known holds X, A's claim is stale."""
    a, b = new_user_id(), new_user_id()
    x, z = f"l{n}", f"z{n}"
    events = [created(a, 5000 + n, x, 0), updated(b, 6000 + n, x, 3), updated(b, 6000 + n, z, 5)]
    return events, {a: None, b: z}


async def test_logins_changing_hands_end_with_the_newest_holder_in_every_arrival_order(
    kafka_bootstrap_servers: str, profiles_sessions: SessionFactory, start_consumer
) -> None:
    # One partition, so the events arrive exactly in the order published; each ordering
    # gets users and logins of its own, so the orderings don't interfere.
    topics = await new_topics(kafka_bootstrap_servers, partitions=1)
    expected: dict[str, str | None] = {}
    published: list[Envelope[Any]] = []
    for build in (swap, taken_from_an_absent_user, taken_and_left_again):
        size = len(build(0)[0])
        for order in itertools.permutations(range(size)):
            events, names = build(len(published))
            published += [events[i] for i in order]
            expected |= names
    await publish(kafka_bootstrap_servers, topics.events, published)

    group = await start_consumer(profiles_sessions, topics)
    await wait_caught_up(kafka_bootstrap_servers, group, topics, timeout=60)

    assert await dead_letters(kafka_bootstrap_servers, topics, group) == 0
    assert await usernames(profiles_sessions) == expected
