"""Which Kafka errors refuse a record (and count towards setting it aside), and which are an
outage (which never does); and the operators' outbox command's usage errors."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    InvalidTopicError,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    RecordListTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from codeflow_messaging.__main__ import outbox_main
from codeflow_messaging.kafka import HeldBack, RecordRefused, is_refusal


@pytest.mark.parametrize(
    "error",
    [
        MessageSizeTooLargeError(),
        RecordListTooLargeError(),
        InvalidTopicError(),
        TopicAuthorizationFailedError("t"),
        RecordRefused("topic 't' does not exist"),
    ],
)
def test_kafka_refusing_the_record_itself_is_a_refusal(error: BaseException) -> None:
    assert is_refusal(error)


@pytest.mark.parametrize(
    "error",
    [
        KafkaConnectionError(),
        KafkaTimeoutError(),
        RequestTimedOutError(),
        NotLeaderForPartitionError(),
        # Unknown until the cluster's metadata says the topic doesn't exist: no broker may
        # have answered.
        UnknownTopicOrPartitionError(),
        # About the producer, not the record.
        OutOfOrderSequenceNumber(),
        HeldBack("an earlier message of its key was not published"),
        OSError("connection reset"),
    ],
)
def test_an_outage_or_a_producer_error_is_never_a_refusal(error: BaseException) -> None:
    assert not is_refusal(error)


@pytest.mark.parametrize(
    "arguments",
    [
        ["retry", "--database-url", "postgresql://x/y"],  # neither ids nor --all
        ["discard", "--all", "7", "--database-url", "postgresql://x/y"],  # both
        ["list", "7", "--database-url", "postgresql://x/y"],
        ["purge", "--database-url", "postgresql://x/y"],
    ],
)
def test_the_outbox_command_rejects_unclear_requests_with_status_2(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        outbox_main(arguments)
    assert exited.value.code == 2
