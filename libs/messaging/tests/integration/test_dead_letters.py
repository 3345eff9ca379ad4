from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from messaging_support import (
    FAST_RETRIES,
    activity,
    effect_consumer,
    effects,
    record_effect,
)
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, to_json_bytes
from codeflow_contracts.topics import dead_letter_topic
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory, replay_dead_letters
from codeflow_messaging import dead_letters as dl
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class PoisonError(RuntimeError):
    pass


async def _produce(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key.encode(), partition=0)
    finally:
        await producer.stop()


async def test_a_message_that_always_fails_is_dead_lettered_and_the_ones_behind_it_are_handled(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
) -> None:
    dlq = dead_letter_topic(topic, group_id)
    await create_topics(kafka_bootstrap_servers, [dlq], partitions=1)
    messages = [activity("user-p", n) for n in range(1, 5)]
    poison = messages[1]
    tries: Counter[str] = Counter()
    poisoned = True

    async def fail_on_poison(session: AsyncSession, envelope: Envelope[Any]) -> None:
        tries[str(envelope.id)] += 1
        if poisoned and envelope.id == poison.id:
            raise PoisonError("cannot apply this one")
        await record_effect(session, envelope)

    await _produce(kafka_bootstrap_servers, topic, [("user-p", to_json_bytes(m)) for m in messages])
    await start_consumers(effect_consumer(sessions, topic, group_id, handler=fail_on_poison))

    await wait_caught_up("the consumer to get past the poison message")
    assert [n for _, _, n in await effects(sessions)] == [1, 3, 4]
    assert tries[str(poison.id)] == FAST_RETRIES.max_attempts

    [dead] = await read_topic(kafka_bootstrap_servers, dlq)
    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == to_json_bytes(poison)
    assert dead.key == b"user-p"
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")
    assert headers[dl.ERROR_MESSAGE] == "cannot apply this one"
    assert "PoisonError" in headers[dl.ERROR_TRACE]
    assert headers[dl.ATTEMPTS] == str(FAST_RETRIES.max_attempts)
    assert headers[dl.ORIGINAL_TOPIC] == topic
    assert headers[dl.GROUP] == group_id

    # Once the cause is fixed, a replay sends it back, and it takes effect, once.
    poisoned = False
    report = await replay_dead_letters(kafka_bootstrap_servers, dlq)
    assert report.replayed == 1

    async def replayed_message_applied() -> bool:
        return len(await effects(sessions)) == 4

    await wait_until(replayed_message_applied, timeout=60, what="the replayed message to apply")
    assert [n for _, _, n in await effects(sessions)] == [1, 3, 4, 2]
    again = await replay_dead_letters(kafka_bootstrap_servers, dlq)
    assert again.replayed == 0


async def test_a_record_that_is_not_an_envelope_is_dead_lettered_at_once(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
) -> None:
    dlq = dead_letter_topic(topic, group_id)
    await create_topics(kafka_bootstrap_servers, [dlq], partitions=1)
    after = activity("user-q", 7)
    await _produce(
        kafka_bootstrap_servers,
        topic,
        [("user-q", b"{not json"), ("user-q", to_json_bytes(after))],
    )
    await start_consumers(effect_consumer(sessions, topic, group_id))

    await wait_caught_up("the consumer to get past the garbage")
    assert await effects(sessions) == [(str(after.id), "user-q", 7)]
    [dead] = await read_topic(kafka_bootstrap_servers, dlq)
    headers = {name: value.decode() for name, value in dead.headers}
    assert dead.value == b"{not json"
    assert headers[dl.ATTEMPTS] == "1"
