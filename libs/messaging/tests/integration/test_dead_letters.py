from __future__ import annotations

import pytest
from messaging_support import (
    FAST_RETRIES,
    ConsumerGroup,
    Poisoned,
    activity,
    effects,
    headers_of,
    publish_records,
)

from codeflow_contracts import to_json_bytes
from codeflow_messaging import dead_letters as dl
from codeflow_messaging import replay_dead_letters
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_message_that_always_fails_is_dead_lettered_and_the_ones_behind_it_are_handled(
    group: ConsumerGroup,
) -> None:
    await group.create_dlq()
    messages = [activity("user-p", n) for n in range(1, 5)]
    poisoned = Poisoned(messages[1])
    poison = poisoned.poison

    await group.publish(messages)
    # A batch per record: the poison's failed batch is its own first attempt.
    await group.start(handler=poisoned.apply, max_batch=1)

    await group.caught_up("the consumer to get past the poison message")
    assert await group.applied() == [1, 3, 4]
    assert poisoned.tries[poison.id] == FAST_RETRIES.max_attempts

    [dead] = await group.dead_letters()
    headers = headers_of(dead)
    assert dead.value == to_json_bytes(poison)
    assert dead.key == b"user-p"
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")
    assert headers[dl.ERROR_MESSAGE] == "cannot apply this one"
    assert "PoisonError" in headers[dl.ERROR_TRACE]
    assert headers[dl.ATTEMPTS] == str(FAST_RETRIES.max_attempts)
    assert headers[dl.ORIGINAL_TOPIC] == group.topic
    assert headers[dl.GROUP] == group.group_id

    # Once the cause is fixed, a replay sends it back, and it takes effect, once.
    poisoned.cured = True
    report = await replay_dead_letters(group.bootstrap_servers, group.dlq)
    assert report.replayed == 1

    async def replayed_message_applied() -> bool:
        return len(await group.applied()) == 4

    await wait_until(replayed_message_applied, timeout=60, what="the replayed message to apply")
    assert await group.applied() == [1, 3, 4, 2]
    again = await replay_dead_letters(group.bootstrap_servers, group.dlq)
    assert again.replayed == 0


async def test_a_record_that_is_not_an_envelope_is_dead_lettered_at_once(
    group: ConsumerGroup,
) -> None:
    await group.create_dlq()
    after = activity("user-q", 7)
    await publish_records(
        group.bootstrap_servers,
        group.topic,
        [(b"user-q", b"{not json"), (after.kafka_key, to_json_bytes(after))],
    )
    await group.start()

    await group.caught_up("the consumer to get past the garbage")
    assert await effects(group.sessions) == [(str(after.id), "user-q", 7)]
    [dead] = await group.dead_letters()
    assert dead.value == b"{not json"
    assert headers_of(dead)[dl.ATTEMPTS] == "1"
