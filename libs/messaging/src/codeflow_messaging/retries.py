"""What a consumer does when applying fails: the message's fault or the database's.

- The database is unreachable (:func:`~codeflow_messaging.failures.is_transient`): the work
  is tried again, as it was (a batch as a batch), until the database answers, without
  counting against any message's attempts; an outage never dead-letters a good message.
- The message is at fault: it is retried alone with backoff, up to
  ``RetryPolicy.max_attempts``, then published to ``<topic>.<group>.dlq`` with the error in
  its headers (:class:`~codeflow_messaging.dead_letter_publisher.DeadLetterPublisher`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeAlias, TypeVar

from aiokafka import ConsumerRecord

from codeflow_contracts import Envelope
from codeflow_messaging.backoff import Backoff, retry_while
from codeflow_messaging.dead_letter_publisher import DeadLetterPublisher
from codeflow_messaging.failures import OUTAGE_BACKOFF, RetryPolicy, is_transient
from codeflow_messaging.metrics import MessagingMetrics

logger = logging.getLogger("codeflow.consumer")

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

_T = TypeVar("_T")


class Retries:
    """One consumer group's retries: of a message alone, and through database outages."""

    def __init__(
        self,
        group_id: str,
        *,
        policy: RetryPolicy | None = None,
        outage_backoff: Backoff = OUTAGE_BACKOFF,
        metrics: MessagingMetrics | None = None,
    ) -> None:
        self.group_id = group_id
        self.policy = policy or RetryPolicy()
        self.outage_backoff = outage_backoff
        self.metrics = metrics or MessagingMetrics()
        self.dead_letters: DeadLetterPublisher | None = None  # set once subscribed

    async def until_the_database_answers(
        self, attempt: Callable[[], Awaitable[_T]], doing: str
    ) -> _T:
        """Run ``attempt`` until it doesn't fail for want of a database; other errors raise."""
        return await retry_while(
            attempt,
            passing=is_transient,
            backoff=self.outage_backoff,
            waiting=partial(self._database_unavailable, doing),
        )

    def _database_unavailable(self, doing: str, exc: BaseException, delay: float) -> None:
        logger.warning(
            "%s: database unavailable %s (%s); retrying in %.1fs",
            self.group_id,
            doing,
            exc,
            delay,
        )

    async def apply_alone(
        self,
        record: Record,
        envelope: Envelope[Any],
        apply: Callable[[], Awaitable[bool]],
        *,
        failed: tuple[BaseException, ...] = (),
    ) -> None:
        """Run ``apply`` (the record's envelope in a transaction of its own; ``False``: it was
        a duplicate), retrying it in place; dead-letter the record when it keeps failing.
        ``failed`` holds the errors of earlier attempts (in a batch)."""
        attempts = len(failed)
        error = failed[-1] if failed else None
        while True:
            if error is not None:
                if attempts >= self.policy.max_attempts:
                    await self.dead_letter(record, error, attempts=attempts)
                    return
                delay = self.policy.backoff.delay(attempts)
                logger.warning(
                    "%s: handling %s %s failed (attempt %d of %d): %r; retrying in %.1fs",
                    self.group_id,
                    envelope.type,
                    envelope.id,
                    attempts,
                    self.policy.max_attempts,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                self.metrics.consumers.retried(self.group_id, record)
            try:
                fresh = await self.until_the_database_answers(apply, f"handling {envelope.id}")
            except Exception as exc:
                attempts += 1
                error = exc
                continue
            if not fresh:
                logger.info(
                    "%s: %s %s already handled; skipped the duplicate",
                    self.group_id,
                    envelope.type,
                    envelope.id,
                )
            return

    async def dead_letter(self, record: Record, error: BaseException, *, attempts: int) -> None:
        """Publish ``record`` to its dead-letter topic; return once Kafka acknowledged it."""
        if self.dead_letters is None:
            raise RuntimeError("ReliableConsumer.subscribe() was not called")
        await self.dead_letters.publish(record, error, attempts=attempts)
        self.metrics.consumers.dead_lettered(self.group_id, record)
