"""Publishing a dead letter, and what to do when Kafka won't take it.

A dead letter is the consumer's last resort: the record's offset is committed only once Kafka
has acknowledged it. So an error publishing it must end one of two ways, never in silence:

- Kafka can't be reached now (a retriable error, a broken connection, a timeout): retried
  with backoff until it can, each failure logged;
- Kafka refuses it for good (too large, not authorized, ...): when it is too large, it is
  sent once more without its error trace, the bulkiest header; if it is still refused,
  :class:`DeadLetterRefused` is raised after a CRITICAL log saying what an operator must do.
  The consumer then rewinds to the record and tries it again later: it is held, not lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)

from codeflow_contracts.topics import dead_letter_topic
from codeflow_messaging.backoff import Backoff, retry_while
from codeflow_messaging.dead_letters import ERROR_TRACE, dead_letter_headers

logger = logging.getLogger("codeflow.consumer")


Publish = Callable[..., Awaitable[Any]]
"""How a dead letter is published: ``publish(value, topic=, key=, headers=)``, as a
FastStream broker's ``publish``; it returns once Kafka acknowledged the record."""


class DeadLetterRefused(Exception):
    """Kafka refused a dead letter for good: the record was neither handled nor set aside."""


def is_retriable(exc: BaseException) -> bool:
    """Whether publishing may succeed later as it is: Kafka unreachable, busy or slow."""
    if isinstance(exc, KafkaTimeoutError | OSError | TimeoutError):
        return True
    return isinstance(exc, KafkaError) and bool(exc.retriable)


def is_too_large(exc: BaseException) -> bool:
    """Whether Kafka refused the record for its size (the broker's limit or the producer's)."""
    return isinstance(exc, MessageSizeTooLargeError | RecordListTooLargeError)


class DeadLetterPublisher:
    """Publishes records a consumer group gave up on to ``<topic>.<group>.dlq``."""

    def __init__(
        self,
        publish: Publish,
        *,
        group_id: str,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._publish = publish
        self.group_id = group_id
        self.backoff = backoff
        self._sleep = sleep

    async def publish(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int
    ) -> None:
        """Publish ``record`` with ``error`` in its headers; return once Kafka acknowledged it.

        Raises :class:`DeadLetterRefused` when Kafka refuses it for good.
        """
        topic = dead_letter_topic(record.topic, self.group_id)
        headers = dead_letter_headers(record, error, group_id=self.group_id, attempts=attempts)
        while True:
            try:
                await retry_while(
                    partial(
                        self._publish, record.value, topic=topic, key=record.key, headers=headers
                    ),
                    passing=is_retriable,
                    backoff=self.backoff,
                    waiting=partial(self._waiting, topic),
                    sleep=self._sleep,
                )
                break
            except Exception as exc:
                if is_too_large(exc) and ERROR_TRACE in headers:
                    logger.warning(
                        "%s: %s refused the dead letter of %s as too large (%r); "
                        "sending it without its error trace",
                        self.group_id,
                        topic,
                        _where(record),
                        exc,
                    )
                    headers = {name: v for name, v in headers.items() if name != ERROR_TRACE}
                    continue
                logger.critical(
                    "%s: %s could not be dead-lettered: %s refused it (%r). The record is "
                    "held, not skipped: its partition waits and it is tried again. An "
                    "operator must make %s accept it (%s), or fix the cause of %r so it is "
                    "handled.",
                    self.group_id,
                    _where(record),
                    topic,
                    exc,
                    topic,
                    _remedy(exc, record),
                    error,
                )
                raise DeadLetterRefused(
                    f"{topic} refused the dead letter of {_where(record)}: {exc!r}"
                ) from exc
        logger.error(
            "%s: dead-lettered %s to %s after %d attempt(s): %r",
            self.group_id,
            _where(record),
            topic,
            attempts,
            error,
        )

    def _waiting(self, topic: str, exc: BaseException, delay: float) -> None:
        logger.warning(
            "%s: could not dead-letter to %s (%r); retrying in %.1fs",
            self.group_id,
            topic,
            exc,
            delay,
        )


def _where(record: ConsumerRecord[bytes, bytes]) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _remedy(exc: BaseException, record: ConsumerRecord[bytes, bytes]) -> str:
    if is_too_large(exc):
        size = len(record.value or b"") + len(record.key or b"")
        return (
            f"raise the topic's max.message.bytes (and the producer's max_request_size if "
            f"needed) above the record's {size} bytes plus headers"
        )
    return "check the topic exists and this consumer may write to it (ACLs)"
