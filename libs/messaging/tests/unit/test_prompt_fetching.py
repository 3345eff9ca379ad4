"""Consumers hand over what they fetched at once, and the relay's batches don't linger."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.producer.message_accumulator import BatchBuilder

from codeflow_messaging import ReliableConsumer
from codeflow_messaging.fetching import (
    CONSUMER_OPTIONS,
    RECORDS_WAIT_SECONDS,
    hold_fetches_while_records_wait,
)
from codeflow_messaging.kafka import create_broker, send_batches
from codeflow_messaging.testing import received_record


class _Fetcher:
    """aiokafka's fetcher as far as the hold sets it: 100 ms, aiokafka's default."""

    _prefetch_backoff = 0.1


class _Consumer:
    """Answers ``getmany`` with the given answers, one per call, and notes its arguments; a
    started aiokafka consumer's fetcher beside it."""

    def __init__(self, *answers: dict[TopicPartition, list[Any]]) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []
        self._fetcher = _Fetcher()

    async def getmany(self, **options: Any) -> dict[TopicPartition, list[Any]]:
        self.calls.append(options)
        return self.answers.pop(0)


def _subscriber(max_batch: int = 100) -> Any:
    broker = create_broker("127.0.0.1:1", client_id="codeflow-tests")
    consumer = ReliableConsumer(
        group_id="g",
        topics=["t"],
        handlers=[],
        sessions=None,  # type: ignore[arg-type]
        max_batch=max_batch,
    )
    consumer.subscribe(broker)
    [subscriber] = broker.subscribers
    return subscriber


async def test_a_consumer_that_fetched_nothing_asks_again_without_pausing() -> None:
    subscriber = _subscriber()
    kafka = _Consumer({})

    began = time.perf_counter()
    assert await subscriber.get_msg(kafka) == ()
    assert time.perf_counter() - began < 0.05, "records arriving now would wait out a pause"


async def test_a_consumer_hands_over_what_it_fetched_at_once_partition_by_partition() -> None:
    subscriber = _subscriber(max_batch=7)
    first, second, other = (received_record(value=v) for v in (b"1", b"2", b"3"))
    kafka = _Consumer({TopicPartition("t", 0): [first, second], TopicPartition("t", 1): [other]})

    assert await subscriber.get_msg(kafka) == (first, second, other)
    assert kafka.calls == [{"timeout_ms": CONSUMER_OPTIONS["batch_timeout_ms"], "max_records": 7}]


def test_an_idle_consumer_waits_long_for_records_while_failure_detection_keeps_its_pace() -> None:
    options = _subscriber()._connection_args

    # Kafka answers a fetch as soon as a record arrives; the wait only spaces out empty ones
    # (a backlog doesn't wait behind it: see the hold below).
    assert options["fetch_max_wait_ms"] >= 5_000
    assert options["consumer_timeout_ms"] >= 1_000
    # Heartbeats and the session timeout are aiokafka's, as ADR 0010 assumes.
    assert options["session_timeout_ms"] == 10_000
    assert options["heartbeat_interval_ms"] == 3_000
    # A fetch held by the broker must end well before the client gives up on it.
    assert options["fetch_max_wait_ms"] < 40_000


async def test_a_consumer_s_fetcher_waits_for_its_fetched_records_to_be_taken() -> None:
    subscriber = _subscriber()
    kafka = _Consumer({})

    await subscriber.get_msg(kafka)

    # Longer than Kafka holds a fetch of partitions with nothing new, which a fetch of the
    # others alone would make a backlog's partition wait for.
    assert kafka._fetcher._prefetch_backoff == RECORDS_WAIT_SECONDS
    assert CONSUMER_OPTIONS["fetch_max_wait_ms"] < RECORDS_WAIT_SECONDS * 1_000


async def test_a_consumer_without_a_fetcher_to_hold_is_named_in_the_log_once_and_still_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscriber = _subscriber()
    kafka = _Consumer({}, {})
    del kafka._fetcher

    assert not hold_fetches_while_records_wait(kafka)
    assert await subscriber.get_msg(kafka) == ()
    assert await subscriber.get_msg(kafka) == ()
    assert [r.levelname for r in caplog.records if "no fetcher to hold" in r.message] == ["ERROR"]


async def test_the_relay_sends_its_batches_closed_so_the_producer_does_not_linger_on_them() -> None:
    producer = _Producer()

    records = [(1, "t", b"k", b"v1", False, None), (2, "t", b"k", b"v2", True, None)]
    sent, failed = await send_batches(producer, records)  # type: ignore[arg-type]
    await asyncio.gather(*(batch.delivered for batch in sent))

    assert not failed
    assert [batch.ids for batch in sent] == [[1], [2]]
    assert producer.submitted_closed == [True, True]


class _Producer:
    """Takes batches as aiokafka's producer does, noting whether each came closed (a closed
    batch is drained at once; an open one waits out ``linger_ms`` for records to join it)."""

    def __init__(self) -> None:
        self.submitted_closed: list[bool] = []

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16_384, 0)

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    async def send_batch(
        self, builder: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[Any]:
        self.submitted_closed.append(builder.closed())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future
