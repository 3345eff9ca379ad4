"""The consumer's batches on the real Kafka and PostgreSQL: a backlog is applied a batch per
transaction; a batch that fails is handled again one record at a time, so that only the record
at fault is dead-lettered; duplicates are skipped; a lost connection retries the batch."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest
from messaging_support import (
    FAST_RETRIES,
    activity,
    count,
    effect_consumer,
    effects,
    publish_in_order,
    record_effect,
    transactions,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, to_json_bytes
from codeflow_contracts.topics import dead_letter_topic
from codeflow_infra.kafka import create_topics
from codeflow_messaging import Backoff, RetryPolicy, SessionFactory
from codeflow_messaging import dead_letters as dl
from codeflow_testing.kafka import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class PoisonError(RuntimeError):
    pass


async def test_a_backlog_is_applied_in_order_in_batches_of_at_most_max_batch_each_one_transaction(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
) -> None:
    backlog = [activity(f"user-{n % 5}", n) for n in range(250)]
    await publish_in_order(kafka_bootstrap_servers, topic, backlog)
    await start_consumers(effect_consumer(sessions, topic, group_id, max_batch=100))
    await wait_caught_up()

    assert [n for _, _, n in await effects(sessions)] == list(range(250))
    per_transaction = await transactions(sessions)
    assert sum(per_transaction) == 250
    assert max(per_transaction) == 100, "a waiting backlog fills the batches"
    assert all(n <= 100 for n in per_transaction)


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone_and_the_others_applied_once(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dlq = dead_letter_topic(topic, group_id)
    await create_topics(kafka_bootstrap_servers, [dlq], partitions=1)
    messages = [activity(f"user-{n % 2}", n) for n in range(1, 7)]
    poison = messages[2]
    tries: Counter[str] = Counter()

    async def fail_on_poison(session: AsyncSession, envelope: Envelope[Any]) -> None:
        tries[str(envelope.id)] += 1
        if envelope.id == poison.id:
            raise PoisonError("cannot apply this one")
        await record_effect(session, envelope)

    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    await publish_in_order(kafka_bootstrap_servers, topic, messages)
    await start_consumers(effect_consumer(sessions, topic, group_id, handler=fail_on_poison))
    await wait_caught_up()

    assert [n for _, _, n in await effects(sessions)] == [1, 2, 4, 5, 6]
    assert any("handling them one at a time" in r.getMessage() for r in caplog.records)
    # The failed batch was the poison record's first attempt.
    assert tries[str(poison.id)] == FAST_RETRIES.max_attempts
    [dead] = await read_topic(kafka_bootstrap_servers, dlq)
    assert dead.value == to_json_bytes(poison)
    headers = {name: value.decode() for name, value in dead.headers}
    assert headers[dl.ATTEMPTS] == str(FAST_RETRIES.max_attempts)
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")


async def test_duplicates_within_a_batch_and_of_an_earlier_batch_take_effect_once(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
) -> None:
    first, second, third, fourth = (activity("user-d", n) for n in range(1, 5))
    await publish_in_order(kafka_bootstrap_servers, topic, [first, second, first, third])
    await start_consumers(effect_consumer(sessions, topic, group_id))
    await wait_caught_up()
    assert await transactions(sessions) == [3], "one batch, its second copy of `first` skipped"

    await publish_in_order(kafka_bootstrap_servers, topic, [second, fourth])
    await wait_caught_up()

    assert [n for _, _, n in await effects(sessions)] == [1, 2, 3, 4]
    assert await count(sessions, "SELECT count(*) FROM processed_events") == 4


async def test_a_connection_lost_mid_batch_retries_the_batch_without_counting_an_attempt(
    sessions: SessionFactory,
    topic: str,
    group_id: str,
    kafka_bootstrap_servers: str,
    start_consumers,
    wait_caught_up,
    caplog: pytest.LogCaptureFixture,
) -> None:
    messages = [activity("user-t", n) for n in range(1, 6)]
    unlucky = messages[2]
    tries: Counter[str] = Counter()

    async def lose_the_connection_once(session: AsyncSession, envelope: Envelope[Any]) -> None:
        tries[str(envelope.id)] += 1
        if envelope.id == unlucky.id and tries[str(envelope.id)] == 1:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        await record_effect(session, envelope)

    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    await publish_in_order(kafka_bootstrap_servers, topic, messages)
    # One attempt only: had the lost connection counted as one, the record would be
    # dead-lettered instead of applied.
    consumer = effect_consumer(
        sessions,
        topic,
        group_id,
        handler=lose_the_connection_once,
        retry=RetryPolicy(max_attempts=1),
        transient_backoff=Backoff(initial=0.05, maximum=0.1),
    )
    await start_consumers(consumer)
    await wait_caught_up()

    assert [n for _, _, n in await effects(sessions)] == [1, 2, 3, 4, 5]
    assert tries[str(unlucky.id)] == 2
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert not any("one at a time" in r.getMessage() for r in caplog.records)
    assert await read_topic(kafka_bootstrap_servers, dead_letter_topic(topic, group_id)) == []
