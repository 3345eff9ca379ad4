"""The outbox relay: publishes committed outbox rows to Kafka, in order per key.

The relay works in rounds. A round claims up to ``batch_size`` pending rows with
``FOR UPDATE SKIP LOCKED`` (so two relays never publish the same row at once), sends them
with an idempotent ``acks=all`` producer (as record batches, one partition's rows in order),
waits for every acknowledgement, and only then marks the acknowledged rows published, in the
transaction that claimed them. A crash between publishing and marking publishes those rows
again later: consumers drop the duplicates through their inbox.

Failures are of two kinds (ADR 0011). An outage (Kafka or the database unreachable, a
timeout, a leader moving) leaves the rows pending, with the error in ``last_error``; the
relay backs off and replaces its producer, and the rows are tried again. A refusal (Kafka
refuses the record itself: too large, a topic that doesn't exist or may not be written)
counts against that row alone: the row is tried again at once, in a batch of its own, and
after ``max_refusals`` refusals it is *set aside*: no longer claimed, logged at ERROR, until
an operator retries or discards it (``python -m codeflow_messaging outbox``). A refusal
neither backs off nor replaces the producer, and holds back no other key's rows.

Rounds overlap: as soon as one round has claimed its rows, the next one may claim and send
while the earlier ones wait for Kafka's acknowledgements and mark their rows, up to
``rounds_in_flight`` rounds at once, each in its own transaction. So Kafka and PostgreSQL
work at the same time instead of taking turns.

Order per key: a row is only claimed when no earlier row with the same key is still pending
outside its round's claim (ADR 0001). A round still in flight is "outside" the next round's
claim exactly as another relay is, so neither a second relay nor the same relay's next round
can overtake a pending row: a key's later rows wait until the round holding its earlier ones
has marked them. A key's rows behind a refused row (set aside or not yet) are not claimed at
all, so however many of them wait, they never crowd other keys out of a claim.

A round starts as soon as a writer's transaction commits a new row: the writer notifies
the relay (PostgreSQL ``NOTIFY``), which listens on a connection of its own, and a burst of
notifications starts one round, not one each (ADR 0029). The relay also polls every
``poll_interval`` seconds, so a row nobody announced, or one committed while the listening
connection was down, waits that long at most.

Housekeeping, every ``purge_interval`` seconds: published rows older than ``retention`` and
inbox rows (``processed_events``) older than ``inbox_retention`` are deleted, in bounded
chunks.
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
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.inbox import purge_processed
from codeflow_messaging.kafka import HeldBack, SentBatch, is_refusal, send_batches
from codeflow_messaging.metrics import MessagingMetrics
from codeflow_messaging.outbox_notifications import OutboxListener, Wakeup, listener_connect
from codeflow_messaging.refusals import log_set_aside, record_refusals

logger = logging.getLogger("codeflow.outbox")

# ``refused`` is each key's earliest refused row still pending (the small partial index
# ix_outbox_refused_key; almost always empty). ``claimed`` locks the round's rows, leaving out
# set-aside rows and every row of a key with an earlier refused row. ``held_back`` is the
# claimed rows that come after a pending row of their key which this claim does not hold
# (locked by another round or relay, or skipped): one pass, sorted by key, over the claimed
# rows and their keys' other pending rows below the claim's last one (found through the
# (key, id) index, published rows never visited). What is claimed and not held back is
# published. Each CTE is computed once, and no two that grow with the backlog are joined: the
# claimed rows are checked against ``refused`` (almost always empty) and against a hashed list
# of ids, so no plan, however wrong the statistics of the moment (an outbox analyzed at rest
# has no pending row), compares every claimed row with every pending one (ADR 0037). The
# answer is one row of arrays, keys and payloads already encoded: the driver decodes arrays
# in C, which costs far less than a thousand result rows.
_CLAIM = text(
    """
    WITH refused AS MATERIALIZED (
        SELECT DISTINCT ON (key) key, id FROM outbox
        WHERE published_at IS NULL AND refusals > 0
        ORDER BY key, id
    ),
    claimed AS MATERIALIZED (
        SELECT id, topic, key, payload, refusals FROM outbox AS o
        WHERE published_at IS NULL
          AND set_aside_at IS NULL
          AND NOT EXISTS (SELECT FROM refused AS r WHERE r.key = o.key AND r.id < o.id)
        ORDER BY id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ),
    held_back AS MATERIALIZED (
        SELECT id FROM (
            SELECT id, outside, bool_or(outside) OVER (PARTITION BY key ORDER BY id) AS behind
            FROM (
                SELECT id, key, false AS outside FROM claimed
                UNION ALL
                SELECT id, key, true FROM outbox
                WHERE published_at IS NULL
                  AND key = ANY (ARRAY(SELECT DISTINCT key FROM claimed))
                  AND id < (SELECT max(id) FROM claimed)
                  AND id NOT IN (SELECT id FROM claimed)
            ) AS pending
        ) AS marked
        WHERE behind AND NOT outside
    )
    SELECT
        coalesce(array_agg(c.id ORDER BY c.id), '{}') AS ids,
        coalesce(array_agg(c.topic ORDER BY c.id), '{}') AS topics,
        coalesce(array_agg(convert_to(c.key, 'UTF8') ORDER BY c.id), '{}') AS keys,
        coalesce(array_agg(convert_to(c.payload::text, 'UTF8') ORDER BY c.id), '{}') AS payloads,
        coalesce(array_agg(c.refusals > 0 ORDER BY c.id), '{}') AS alone,
        coalesce(array_agg(convert_to(c.payload->>'traceparent', 'UTF8') ORDER BY c.id), '{}')
            AS traceparents
    FROM claimed AS c
    WHERE c.id NOT IN (SELECT id FROM held_back)
    """
)
_MARK_PUBLISHED = text(
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL "
    "WHERE id = ANY(:ids)"
)
_MARK_FAILED = text(
    "UPDATE outbox SET attempts = attempts + 1, last_error = :error WHERE id = ANY(:ids)"
)
_PURGE = text(
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE published_at < now() - make_interval(secs => :seconds) LIMIT 10000)"
)


@dataclass(frozen=True)
class ClaimedRows:
    """A round's claimed rows in id order, as parallel lists."""

    ids: list[int]
    topics: list[str]
    keys: list[bytes]
    payloads: list[bytes]
    alone: list[bool]
    """Whether each row was refused before: it is sent in a batch of its own."""
    traceparents: list[bytes | None]
    """Each message's trace (ADR 0027), for its record's ``traceparent`` header."""


class PublishFailed(Exception):
    """Some rows of a round could not be published; they stay pending."""

    def __init__(self, failed: dict[int, BaseException]) -> None:
        first = next(iter(failed.values()))
        super().__init__(f"{len(failed)} outbox row(s) not published: {first!r}")
        self.failed = failed


RELAY_BACKOFF = Backoff(initial=0.2, maximum=10.0)
"""How long the relay waits between rounds while Kafka or the database is down."""

_PRODUCER_STOP_TIMEOUT = 10.0

DEFAULT_BATCH_SIZE = 1000
"""Rows a round claims and publishes at most."""

DEFAULT_POLL_INTERVAL = 2.0
"""Seconds between polls of the outbox: the fallback for rows no notification announced."""

DEFAULT_MAX_REFUSALS = 5
"""Refusals after which a row is set aside."""

DEFAULT_INBOX_RETENTION = timedelta(days=30)
"""How long a handled message's id is kept to recognise a copy: longer than Kafka's default
retention (7 days) plus a replay window."""

_INBOX_PURGE_CHUNK = 5000
_INBOX_PURGE_CHUNKS = 10
"""Inbox rows deleted per statement (each its own transaction), and statements per
housekeeping step: a backlog is worked off over several steps, never in one long stall of
publishing."""

ProducerFactory = Callable[[], AIOKafkaProducer]


class OutboxRelay:
    """Publishes one service's outbox until cancelled.

    ``producer_factory`` makes a fresh, unstarted producer (see
    :func:`codeflow_messaging.kafka.create_producer`); the relay starts it, and replaces it
    after a failure so that a broker outage can't leave it wedged. Each round in flight holds
    one database connection while it waits for Kafka, so the session factory's pool should
    allow ``rounds_in_flight`` connections.

    With ``listen`` (the default), it also listens for the writers' notifications, on a
    connection of its own outside the pool, and starts a round as soon as one arrives;
    ``poll_interval`` is then only the fallback.

    A row Kafka refuses ``max_refusals`` times is set aside (see the module's docstring);
    housekeeping deletes published rows after ``retention`` and inbox rows after
    ``inbox_retention``, every ``purge_interval`` seconds.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        producer_factory: ProducerFactory,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        rounds_in_flight: int = 2,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        listen: bool = True,
        backoff: Backoff = RELAY_BACKOFF,
        retention: timedelta = timedelta(hours=24),
        purge_interval: float = 60.0,
        ack_warning_interval: float = 5.0,
        max_refusals: int = DEFAULT_MAX_REFUSALS,
        inbox_retention: timedelta = DEFAULT_INBOX_RETENTION,
        metrics: MessagingMetrics | None = None,
    ) -> None:
        if rounds_in_flight < 1:
            raise ValueError("rounds_in_flight must be at least 1")
        if max_refusals < 1:
            raise ValueError("max_refusals must be at least 1")
        self._sessions = sessions
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._producer_lock = asyncio.Lock()
        self.batch_size = batch_size
        self.rounds_in_flight = rounds_in_flight
        self.poll_interval = poll_interval
        self.listen = listen
        self._wakeup = Wakeup()
        self.backoff = backoff
        self.retention = retention
        self.purge_interval = purge_interval
        self.ack_warning_interval = ack_warning_interval
        self.max_refusals = max_refusals
        self.inbox_retention = inbox_retention
        self.metrics = (metrics or MessagingMetrics()).outbox

    def wake(self) -> None:
        """Start a round as soon as the relay is free (however often it is called meanwhile,
        once), as a notification of new rows does."""
        self._wakeup.notify()

    async def run(self) -> None:
        """Publish pending rows forever, backing off while Kafka or the database is down.

        With ``listen``, a round starts when a writer's notification arrives (see the
        module's docstring), else every ``poll_interval`` seconds."""
        failures = 0
        loop = asyncio.get_running_loop()
        next_purge = loop.time() + self.purge_interval
        connect = listener_connect(self._sessions) if self.listen else None
        listening = (
            asyncio.create_task(OutboxListener(connect, self._wakeup).run(), name="outbox-listener")
            if connect is not None
            else None
        )
        try:
            while True:
                try:
                    _, drained = await self._publish_until(next_purge)
                    if loop.time() >= next_purge:
                        await self.purge_published()
                        await self.purge_processed()
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
                if drained:
                    await self._wakeup.wait(self.poll_interval)
        finally:
            if listening is not None:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
            await self._discard_producer()

    async def publish_pending(self) -> int:
        """Publish what is pending, in overlapping rounds; returns how many rows it published.

        It claims round after round until a claim made while none of its own rounds was in
        flight comes back short: then nothing more is claimable (the rest, if any, waits
        behind another relay). A claim that comes back short while earlier rounds are in
        flight may have been held back by them, so it claims again when one of them ends.
        If a round fails, no new round starts; the others finish (and mark what Kafka
        acknowledged) before the first error is raised.
        """
        published, _ = await self._publish_until(None)
        return published

    async def _publish_until(self, deadline: float | None) -> tuple[int, bool]:
        """:meth:`publish_pending`, starting no round after ``deadline`` (the loop's clock);
        returns how many rows it published and whether it stopped because none were left."""
        loop = asyncio.get_running_loop()
        rounds: set[asyncio.Task[int]] = set()
        published = 0
        error: BaseException | None = None
        drained = False
        try:
            while deadline is None or loop.time() < deadline:
                if len(rounds) >= self.rounds_in_flight:
                    published, error, rounds = await _one_ends(rounds, published)
                    if error is not None:
                        break
                others_in_flight = bool(rounds)
                try:
                    claimed, round_ = await self._start_round()
                except Exception as exc:  # the rounds in flight still finish and mark
                    error = exc
                    break
                if round_ is not None:
                    rounds.add(round_)
                if claimed == self.batch_size:
                    continue
                if not others_in_flight:
                    drained = True
                    break
                published, error, rounds = await _one_ends(rounds, published)
                if error is not None:
                    break
            if rounds:
                done, rounds = await asyncio.wait(rounds)
                published, error = _collect(done, published, error)
        finally:
            for round_ in rounds:
                round_.cancel()
            await asyncio.gather(*rounds, return_exceptions=True)
        if error is not None:
            raise error
        return published, drained

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

    async def purge_processed(self) -> int:
        """Delete inbox rows older than ``inbox_retention``, a bounded number of chunks per
        call; returns how many it deleted."""
        purged = 0
        for _ in range(_INBOX_PURGE_CHUNKS):
            async with transaction(self._sessions) as session:
                chunk = await purge_processed(
                    session, older_than=self.inbox_retention, limit=_INBOX_PURGE_CHUNK
                )
            purged += chunk
            if chunk < _INBOX_PURGE_CHUNK:
                break
        if purged:
            logger.info("outbox relay: purged %d inbox row(s)", purged)
        return purged

    async def _start_round(self) -> tuple[int, asyncio.Task[int] | None]:
        """Start a round and wait until it has claimed its rows; returns how many it claimed
        and the task that sends them, waits for their acknowledgements and marks them (None
        if it claimed nothing)."""
        claimed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        round_ = asyncio.create_task(self._round(claimed))
        try:
            await asyncio.wait({claimed, round_}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            round_.cancel()
            await asyncio.gather(round_, return_exceptions=True)
            raise
        if not claimed.done():  # the round failed before its claim was made
            claimed.cancel()
            await round_
            return 0, None
        if claimed.result() == 0:
            await round_
            return 0, None
        return claimed.result(), round_

    async def _round(self, claimed: asyncio.Future[int]) -> int:
        """One round: claim (then resolve ``claimed``), send, await the acks, mark, commit.

        Refusals are counted (and rows set aside) in the round's own transaction, so no
        other round can claim a refused row before its count is up to date. An outage's
        rows are recorded afterwards and raise :class:`PublishFailed`; rows held back behind
        a failed row of their key are left as they were.
        """
        async with transaction(self._sessions) as session:
            rows = await self._claim(session)
            claimed.set_result(len(rows.ids))
            if not rows.ids:
                return 0
            producer = await self._started_producer()
            batches, failed = await send_batches(
                producer,
                zip(
                    rows.ids,
                    rows.topics,
                    rows.keys,
                    rows.payloads,
                    rows.alone,
                    rows.traceparents,
                    strict=True,
                ),
            )
            try:
                await self._acknowledged(batches)
            finally:
                for batch in batches:
                    batch.abandon()
            published: list[int] = []
            for batch in batches:
                error = _error_of(batch.delivered)
                if error is not None:
                    failed.update(dict.fromkeys(batch.ids, error))
                else:
                    published.extend(batch.ids)
            if published:
                await self.mark_published(session, published)
            refused = {row: error for row, error in failed.items() if is_refusal(error)}
            set_aside = await record_refusals(session, refused, self.max_refusals)
        self.metrics.round_ended(published=len(published), failed=failed, set_aside=len(set_aside))
        for row in set_aside:
            log_set_aside(row)
        outages = {
            row: error
            for row, error in failed.items()
            if not is_refusal(error) and not isinstance(error, HeldBack)
        }
        if outages:
            await self._record_failures(outages)
            raise PublishFailed(outages)
        logger.debug("outbox relay: published %d message(s)", len(published))
        return len(published)

    async def _claim(self, session: AsyncSession) -> ClaimedRows:
        # Whatever plan PostgreSQL keeps for it, made while the outbox was empty or not, the
        # claim's work grows with the rows it claims, not with the backlog (ADR 0037), so it
        # is no longer planned at each execution, which cost the round a statement of its
        # own before the claim (ADR 0046).
        result = await session.execute(_CLAIM, {"limit": self.batch_size})
        return ClaimedRows(*result.one())

    async def _acknowledged(self, batches: Sequence[SentBatch]) -> None:
        # An idempotent producer never gives up on a message: while Kafka is down it retries
        # until Kafka is back, then delivers in order. The round waits for it (its rows stay
        # claimed, new outbox writes keep committing) and says so at intervals.
        waited = 0.0
        for batch in batches:
            while not batch.delivered.done():
                await asyncio.wait((batch.delivered,), timeout=self.ack_warning_interval)
                if not batch.delivered.done():
                    waited += self.ack_warning_interval
                    logger.warning(
                        "outbox relay: Kafka has not acknowledged %d message(s) for %.0fs; "
                        "still waiting",
                        sum(len(b.ids) for b in batches if not b.delivered.done()),
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
        # Rounds in flight may both find no producer: one starts it, the other waits for it
        # (two would leave one of them never stopped).
        async with self._producer_lock:
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


def _error_of(delivered: asyncio.Future[Any]) -> BaseException | None:
    if delivered.cancelled():
        return asyncio.CancelledError("the batch was cancelled before Kafka answered")
    return delivered.exception()


async def _one_ends(
    rounds: set[asyncio.Task[int]], published: int
) -> tuple[int, BaseException | None, set[asyncio.Task[int]]]:
    """Wait until one of ``rounds`` ends; (published so far, its error, those still running)."""
    done, rounds = await asyncio.wait(rounds, return_when=asyncio.FIRST_COMPLETED)
    published, error = _collect(done, published, None)
    return published, error, rounds


def _collect(
    done: set[asyncio.Task[int]], published: int, error: BaseException | None
) -> tuple[int, BaseException | None]:
    """Add finished rounds' counts to ``published``; keep the first error."""
    for round_ in done:
        exc = round_.exception()
        if exc is None:
            published += round_.result()
        elif error is None:
            error = exc
    return published, error
