"""B3's baseline: a hand-written aiokafka + asyncpg consumer of ``UserActive`` that batches as
well as the profiles service does.

It reads ``getmany`` batches of the service consumer's size, applies each batch in one
transaction with one set-based ``UPDATE`` (each user's latest activity in the batch, moved
forward only, as the service's ``record_activities`` does), and commits the offsets once the
transaction has committed. It keeps no inbox and doesn't validate envelopes; ``bench/README.md``
lists everything the service does that it doesn't.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

import asyncpg

from codeflow_contracts import UserActive
from codeflow_messaging.fetching import CONSUMER_OPTIONS, hold_fetches_while_records_wait
from codeflow_messaging.kafka import create_consumer

logger = logging.getLogger("codeflow.bench")

MOVE_EACH_LAST_ACTIVE_FORWARD = """
UPDATE user_profiles AS profile
SET last_active_at = activity.active_at, updated_at = now()
FROM unnest($1::text[], $2::timestamptz[]) AS activity (user_id, active_at)
WHERE profile.user_id = activity.user_id AND profile.last_active_at < activity.active_at
"""


def latest_activity(values: Iterable[bytes | None]) -> dict[str, datetime]:
    """Each user's latest ``active_at`` among the ``UserActive`` envelopes in ``values``
    (record values); records of other types are left alone.

    One entry per user, so the ``UPDATE`` matches each profile at most once, and only the
    latest activity can move ``last_active_at``, whatever order the records came in."""
    latest: dict[str, datetime] = {}
    for value in values:
        if value is None:
            continue
        envelope = json.loads(value)
        if envelope.get("type") != UserActive.message_type:
            continue
        user_id = envelope["data"]["user_id"]
        active_at = datetime.fromisoformat(envelope["data"]["active_at"])
        if user_id not in latest or active_at > latest[user_id]:
            latest[user_id] = active_at
    return latest


def end_state_differences(
    expected: Mapping[str, datetime], found: Mapping[str, datetime]
) -> list[str]:
    """The users whose ``last_active_at`` in ``found`` isn't the one ``expected`` (missing
    on either side included), sorted."""
    return sorted(
        user_id
        for user_id in expected.keys() | found.keys()
        if expected.get(user_id) != found.get(user_id)
    )


def cpu_per_event_us(cpu_seconds: float, events: int) -> float | None:
    """CPU time per event applied, in microseconds; ``None`` when nothing was applied."""
    return cpu_seconds / events * 1e6 if events else None


async def consume_batched(
    bootstrap: str,
    topic: str,
    database_url: str,
    *,
    group_id: str,
    max_batch: int,
    commit_every: int,
) -> None:
    """Apply ``topic``'s ``UserActive`` records to ``user_profiles``, a batch per transaction,
    until cancelled; the offsets are committed after a transaction, as the service's consumer
    commits them: once ``commit_every`` records wait for it, or at once when a batch ends
    where one of its partitions did."""
    consumer = create_consumer(
        bootstrap,
        topic,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    connection = await asyncpg.connect(database_url)
    uncommitted = 0
    try:
        move = await connection.prepare(MOVE_EACH_LAST_ACTIVE_FORWARD)
        await consumer.start()
        # Fetched as the service's consumers fetch: not the idle partitions alone while a
        # backlog's records wait (ADR 0044).
        hold_fetches_while_records_wait(consumer)
        while True:
            # As long as the service's consumers wait: it ends as soon as records are there.
            batches = await consumer.getmany(
                timeout_ms=CONSUMER_OPTIONS["batch_timeout_ms"], max_records=max_batch
            )
            if not batches:
                continue
            latest = latest_activity(
                record.value for records in batches.values() for record in records
            )
            async with connection.transaction():
                await move.fetch(list(latest), list(latest.values()))
            uncommitted += sum(len(records) for records in batches.values())
            if uncommitted >= commit_every or any(
                records[-1].offset + 1 >= (consumer.highwater(tp) or 0)
                for tp, records in batches.items()
            ):
                await consumer.commit()
                uncommitted = 0
    finally:
        await consumer.stop()
        await connection.close()
