"""What a consumer does when publishing a dead letter fails: retry what may pass later,
drop the trace of what is too large, and refuse loudly what Kafka will never take."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotEnoughReplicasError,
    TopicAuthorizationFailedError,
)

from codeflow_messaging import Backoff
from codeflow_messaging import dead_letters as dl
from codeflow_messaging.dead_letter_publisher import DeadLetterPublisher, DeadLetterRefused
from codeflow_messaging.testing import received_record

DLQ = "auth.user-events.profiles.dlq"


class _Kafka:
    """Answers each publish with the next of ``answers`` (an exception, or ``None``: taken)."""

    def __init__(self, *answers: BaseException | None) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    async def publish(self, value: bytes, **options: Any) -> None:
        self.sent.append({"value": value, **options})
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer


class _Clock:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def _publisher(kafka: _Kafka, clock: _Clock) -> DeadLetterPublisher:
    return DeadLetterPublisher(
        kafka.publish,
        group_id="profiles",
        backoff=Backoff(initial=0.5, maximum=10.0),
        sleep=clock.sleep,
    )


@pytest.mark.parametrize(
    "error",
    [
        KafkaConnectionError("no broker"),
        KafkaTimeoutError(),
        NotEnoughReplicasError(),
        ConnectionResetError(),
        TimeoutError(),
    ],
    ids=["connection", "kafka timeout", "retriable broker error", "socket", "timeout"],
)
async def test_a_dead_letter_kafka_cannot_take_now_is_retried_with_backoff_until_it_can(
    error: BaseException,
) -> None:
    kafka, clock = _Kafka(error, error, None), _Clock()
    await _publisher(kafka, clock).publish(received_record(), ValueError("bad"), attempts=5)
    assert len(kafka.sent) == 3
    assert all(sent["topic"] == DLQ for sent in kafka.sent)
    assert clock.waits == [0.5, 1.0]


async def test_a_dead_letter_too_large_is_sent_again_once_without_its_trace() -> None:
    kafka, clock = _Kafka(MessageSizeTooLargeError(), None), _Clock()
    await _publisher(kafka, clock).publish(received_record(), ValueError("bad"), attempts=5)
    first, second = kafka.sent
    assert dl.ERROR_TRACE in first["headers"]
    assert second["headers"] == {
        name: value for name, value in first["headers"].items() if name != dl.ERROR_TRACE
    }
    assert second["value"] == first["value"]
    assert second["key"] == b"user-1"
    assert clock.waits == []


async def test_a_dead_letter_too_large_even_without_its_trace_is_refused_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kafka, clock = _Kafka(MessageSizeTooLargeError(), MessageSizeTooLargeError()), _Clock()
    with pytest.raises(DeadLetterRefused, match=DLQ):
        await _publisher(kafka, clock).publish(received_record(), ValueError("bad"), attempts=5)
    assert len(kafka.sent) == 2
    [critical] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "auth.user-events[2]@41 could not be dead-lettered" in critical.getMessage()
    assert "max.message.bytes" in critical.getMessage()


async def test_a_dead_letter_kafka_refuses_for_good_is_not_retried_and_is_refused_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kafka, clock = _Kafka(TopicAuthorizationFailedError(DLQ)), _Clock()
    with pytest.raises(DeadLetterRefused) as refused:
        await _publisher(kafka, clock).publish(received_record(), ValueError("bad"), attempts=5)
    assert isinstance(refused.value.__cause__, TopicAuthorizationFailedError)
    assert len(kafka.sent) == 1
    assert clock.waits == []
    [critical] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "may write to it (ACLs)" in critical.getMessage()
