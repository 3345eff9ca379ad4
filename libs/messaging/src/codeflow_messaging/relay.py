"""The outbox relay: publishes committed outbox rows to Kafka, in order per key.

Each round claims pending rows with ``FOR UPDATE SKIP LOCKED`` (so two relays never publish
the same row at once), publishes them with an idempotent ``acks=all`` producer, waits for
every acknowledgement, and only then marks them published in the same transaction. A crash
between publishing and marking publishes those rows again on the next round: consumers drop
the duplicates through their inbox.

Order per key: a row is only claimed when no earlier row with the same key is still pending
outside this round's claim, so a second relay can't overtake a first one on the same key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.kafka import CONTENT_TYPE

logger = logging.getLogger("codeflow.outbox")

_CLAIM = text(
    """
    WITH claimed AS (
        SELECT id, key FROM outbox
        WHERE published_at IS NULL
        ORDER BY id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    SELECT o.id, o.topic, o.key, o.payload::text AS payload
    FROM outbox AS o JOIN claimed AS c ON c.id = o.id
    WHERE NOT EXISTS (
        SELECT 1 FROM outbox AS earlier
        WHERE earlier.key = c.key
          AND earlier.published_at IS NULL
          AND earlier.id < c.id
          AND earlier.id NOT IN (SELECT id FROM claimed)
    )
    ORDER BY o.id
    """
)
_MARK_PUBLISHED = text(
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL "
    "WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_MARK_FAILED = text(
    "UPDATE outbox SET attempts = attempts + 1, last_error = :error WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_PURGE = text(
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE published_at < now() - make_interval(secs => :seconds) LIMIT 10000)"
)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    payload: str


class PublishFailed(Exception):
    """Some rows of a round could not be published; they stay pending."""

    def __init__(self, failed: dict[int, BaseException]) -> None:
        first = next(iter(failed.values()))
        super().__init__(f"{len(failed)} outbox row(s) not published: {first!r}")
        self.failed = failed


RELAY_BACKOFF = Backoff(initial=0.2, maximum=10.0)
"""How long the relay waits between rounds while Kafka or the database is down."""

_PRODUCER_STOP_TIMEOUT = 10.0

ProducerFactory = Callable[[], AIOKafkaProducer]


class OutboxRelay:
    """Publishes one service's outbox until cancelled.

    ``producer_factory`` makes a fresh, unstarted producer (see
    :func:`codeflow_messaging.kafka.create_producer`); the relay starts it, and replaces it
    after a failure so that a broker outage can't leave it wedged.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        producer_factory: ProducerFactory,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.1,
        backoff: Backoff = RELAY_BACKOFF,
        retention: timedelta = timedelta(hours=24),
        purge_interval: float = 60.0,
        ack_warning_interval: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.backoff = backoff
        self.retention = retention
        self.purge_interval = purge_interval
        self.ack_warning_interval = ack_warning_interval

    async def run(self) -> None:
        """Publish pending rows forever, backing off while Kafka or the database is down."""
        failures = 0
        loop = asyncio.get_running_loop()
        next_purge = loop.time() + self.purge_interval
        try:
            while True:
                try:
                    published = await self.publish_pending()
                    if loop.time() >= next_purge:
                        await self.purge_published()
                        next_purge = loop.time() + self.purge_interval
                except (KafkaError, OSError, SQLAlchemyError, PublishFailed) as exc:
                    failures += 1
                    delay = self.backoff.delay(failures)
                    logger.warning(
                        "outbox relay: publishing failed (%s); retrying in %.1fs (failure %d)",
                        exc,
                        delay,
                        failures,
                    )
                    await self._discard_producer()
                    await asyncio.sleep(delay)
                    continue
                if failures:
                    logger.info("outbox relay: publishing again after %d failure(s)", failures)
                    failures = 0
                if published < self.batch_size:
                    await asyncio.sleep(self.poll_interval)
        finally:
            await self._discard_producer()

    async def publish_pending(self) -> int:
        """Run one round: claim, publish, mark. Returns how many rows it published."""
        async with transaction(self._sessions) as session:
            rows = await self._claim(session)
            if not rows:
                return 0
            producer = await self._started_producer()
            published, failed = await self._publish(producer, rows)
            if published:
                await self.mark_published(session, published)
        if failed:
            await self._record_failures(failed)
            raise PublishFailed(failed)
        logger.debug("outbox relay: published %d message(s)", len(published))
        return len(published)

    async def mark_published(self, session: AsyncSession, ids: Sequence[int]) -> None:
        """Mark rows published, in the round's transaction (committed when the round ends)."""
        await session.execute(_MARK_PUBLISHED, {"ids": list(ids)})

    async def purge_published(self) -> int:
        """Delete rows published longer ago than the retention period."""
        async with transaction(self._sessions) as session:
            result = await session.execute(_PURGE, {"seconds": self.retention.total_seconds()})
        purged: int = getattr(result, "rowcount", 0)
        if purged:
            logger.info("outbox relay: purged %d published row(s)", purged)
        return purged

    async def _claim(self, session: AsyncSession) -> list[OutboxRow]:
        result = await session.execute(_CLAIM, {"limit": self.batch_size})
        return [OutboxRow(**row._mapping) for row in result]

    async def _publish(
        self, producer: AIOKafkaProducer, rows: Sequence[OutboxRow]
    ) -> tuple[list[int], dict[int, BaseException]]:
        headers = [("content-type", CONTENT_TYPE.encode())]
        futures: list[tuple[int, asyncio.Future[Any]]] = []
        failed: dict[int, BaseException] = {}
        for row in rows:
            try:
                future = await producer.send(
                    row.topic, row.payload.encode(), key=row.key.encode(), headers=headers
                )
            except (KafkaError, OSError) as exc:
                failed[row.id] = exc
                continue
            futures.append((row.id, future))
        await self._acknowledged([f for _, f in futures])
        published: list[int] = []
        for row_id, future in futures:
            error = future.exception()
            if error is not None:
                failed[row_id] = error
            else:
                published.append(row_id)
        return published, failed

    async def _acknowledged(self, futures: Sequence[asyncio.Future[Any]]) -> None:
        # An idempotent producer never gives up on a message: while Kafka is down it retries
        # until Kafka is back, then delivers in order. The round waits for it (its rows stay
        # claimed, new outbox writes keep committing) and says so at intervals.
        pending: set[asyncio.Future[Any]] = set(futures)
        waited = 0.0
        while pending:
            _, pending = await asyncio.wait(pending, timeout=self.ack_warning_interval)
            if pending:
                waited += self.ack_warning_interval
                logger.warning(
                    "outbox relay: Kafka has not acknowledged %d message(s) for %.0fs; "
                    "still waiting",
                    len(pending),
                    waited,
                )

    async def _record_failures(self, failed: dict[int, BaseException]) -> None:
        first = next(iter(failed.values()))
        try:
            async with transaction(self._sessions) as session:
                await session.execute(_MARK_FAILED, {"ids": list(failed), "error": repr(first)})
        except SQLAlchemyError:
            logger.exception("outbox relay: could not record the failure on the rows")

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            logger.info("outbox relay: connected to Kafka")
        return self._producer

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                # stop() flushes, which never ends while Kafka is unreachable.
                await asyncio.wait_for(producer.stop(), timeout=_PRODUCER_STOP_TIMEOUT)
            except (KafkaError, OSError, TimeoutError) as exc:
                logger.warning("outbox relay: producer did not stop cleanly: %r", exc)
