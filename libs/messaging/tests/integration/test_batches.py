"""The consumer's batches on the real Kafka and PostgreSQL: a backlog is applied a batch per
transaction; a batch that fails is handled again one record at a time, so that only the record
at fault is dead-lettered; duplicates are skipped; a lost connection retries the batch."""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import anyio.to_thread
import pytest
from aiokafka import AIOKafkaConsumer
from messaging_support import (
    FAST_RETRIES,
    ConsumerGroup,
    Poisoned,
    activity,
    count,
    headers_of,
    publish_backlog,
    record_effects,
    transactions,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserActive, to_json_bytes
from codeflow_messaging import Backoff, RetryPolicy
from codeflow_messaging import dead_letters as dl

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_backlog_is_applied_in_order_in_batches_of_at_most_max_batch_each_one_transaction(
    group: ConsumerGroup,
) -> None:
    await group.publish([activity(f"user-{n % 5}", n) for n in range(250)])
    await group.start(max_batch=100)
    await group.caught_up()

    assert await group.applied() == list(range(250))
    per_transaction = await transactions(group.sessions)
    assert sum(per_transaction) == 250
    assert max(per_transaction) == 100, "a waiting backlog fills the batches"
    assert all(n <= 100 for n in per_transaction)


async def test_a_backlog_does_not_pay_an_offset_commit_per_batch(
    group: ConsumerGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each commit is a round trip to the group coordinator; a backlog of several batches is
    # committed every `commit_every` records and when caught up, not after every batch.
    commits: list[object] = []
    commit = AIOKafkaConsumer.commit

    async def noted(consumer: AIOKafkaConsumer, *args: Any, **options: Any) -> None:
        commits.append(args)
        await commit(consumer, *args, **options)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", noted)
    await group.publish([activity(f"user-{n % 5}", n) for n in range(600)])
    await group.start()
    await group.caught_up()

    batches = len(await transactions(group.sessions))
    assert batches >= 6, "the backlog was read in batches of at most 100"
    assert await group.applied() == list(range(600))
    assert len(commits) <= batches // 2, f"{len(commits)} commits for {batches} batches"


async def test_a_backlog_on_one_partition_is_not_held_up_by_the_idle_others(
    group: ConsumerGroup,
) -> None:
    # aiokafka keeps one fetch in flight per broker. Once a partition's fetched records have
    # waited 100 ms, it fetches the topic's other partitions without it, and Kafka holds that
    # fetch as long as `fetch_max_wait_ms` while they have nothing; the backlog's partition,
    # its records handed over meanwhile, waits for that fetch's answer before it is fetched
    # again. The backlog is more than one fetch of its partition holds (1 MB).
    handled_at: list[float] = []

    async def timed(session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]) -> None:
        handled_at.append(time.monotonic())
        await record_effects(session, envelopes)

    backlog = [activity(f"user-{n % 50}", n) for n in range(4_000)]
    assert sum(len(to_json_bytes(e)) for e in backlog) > 1_048_576
    await publish_backlog(group.bootstrap_servers, group.topic, backlog)
    await group.start(handler=timed)
    await group.caught_up(timeout=90)

    assert await group.applied() == list(range(4_000))
    longest = max(later - earlier for earlier, later in itertools.pairwise(handled_at))
    assert longest < 2.5, f"the backlog stood still for {longest:.1f} s between two batches"


async def test_a_batch_is_handled_on_the_event_loop_without_a_worker_thread(
    group: ConsumerGroup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hop to a worker thread and back costs two thread wake-ups per batch, which is the
    # larger part of an idle consumer's time to an event (B7).
    in_threads: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def noted(func: Any, *args: Any, **options: Any) -> Any:
        in_threads.append(func)
        return await run_sync(func, *args, **options)

    monkeypatch.setattr(anyio.to_thread, "run_sync", noted)
    await group.publish([activity("user-t", n) for n in range(1, 4)])
    await group.start()
    await group.caught_up()

    assert await group.applied() == [1, 2, 3]
    assert in_threads == []


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone_and_the_others_applied_once(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    await group.create_dlq()
    messages = [activity(f"user-{n % 2}", n) for n in range(1, 7)]
    poisoned = Poisoned(messages[2])

    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    await group.publish(messages)
    await group.start(handler=poisoned.apply)
    await group.caught_up()

    assert await group.applied() == [1, 2, 4, 5, 6]
    assert any("handling them one at a time" in r.getMessage() for r in caplog.records)
    # Tried on its own as often as the policy allows (the failed batch counts as one of
    # those only if the poison was alone in it), then dead-lettered.
    assert poisoned.tries_alone[poisoned.poison.id] == FAST_RETRIES.max_attempts
    [dead] = await group.dead_letters()
    assert dead.value == to_json_bytes(poisoned.poison)
    headers = headers_of(dead)
    assert headers[dl.ATTEMPTS] == str(FAST_RETRIES.max_attempts)
    assert headers[dl.ERROR_TYPE].endswith("PoisonError")


async def test_duplicates_within_a_batch_and_of_an_earlier_batch_take_effect_once(
    group: ConsumerGroup,
) -> None:
    first, second, third, fourth = (activity("user-d", n) for n in range(1, 5))
    await group.publish([first, second, first, third])
    await group.start()
    await group.caught_up()
    assert await transactions(group.sessions) == [3], (
        "one batch, its second copy of `first` skipped"
    )

    await group.publish([second, fourth])
    await group.caught_up()

    assert await group.applied() == [1, 2, 3, 4]
    assert await count(group.sessions, "SELECT count(*) FROM processed_events") == 4


async def test_a_connection_lost_mid_batch_retries_the_batch_without_counting_an_attempt(
    group: ConsumerGroup, caplog: pytest.LogCaptureFixture
) -> None:
    messages = [activity("user-t", n) for n in range(1, 6)]
    unlucky = messages[2]
    tries: Counter[UUID] = Counter()

    async def lose_the_connection_once(
        session: AsyncSession, envelopes: Sequence[Envelope[UserActive]]
    ) -> None:
        tries.update(envelope.id for envelope in envelopes)
        if tries[unlucky.id] == 1 and unlucky.id in {e.id for e in envelopes}:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        await record_effects(session, envelopes)

    caplog.set_level(logging.WARNING, logger="codeflow.consumer")
    await group.publish(messages)
    # One attempt only: had the lost connection counted as one, the record would be
    # dead-lettered instead of applied.
    await group.start(
        handler=lose_the_connection_once,
        retry=RetryPolicy(max_attempts=1),
        transient_backoff=Backoff(initial=0.05, maximum=0.1),
    )
    await group.caught_up()

    assert await group.applied() == [1, 2, 3, 4, 5]
    assert tries[unlucky.id] == 2
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert not any("one at a time" in r.getMessage() for r in caplog.records)
    assert await group.dead_letters() == []
