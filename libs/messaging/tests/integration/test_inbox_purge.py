"""The inbox is purged by the relay's housekeeping: rows older than the inbox retention go,
recent ones stay, so a duplicate of a recent message is still dropped."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from messaging_support import count
from sqlalchemy import text

from codeflow_messaging import SessionFactory, record_processed, transaction
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TYPE = "codeflow.user.active.v1"


async def test_the_relay_purges_inbox_rows_older_than_the_retention_and_keeps_recent_ones(
    sessions: SessionFactory, start_relay
) -> None:
    old = [uuid.uuid4() for _ in range(25)]
    recent = [uuid.uuid4() for _ in range(3)]
    async with transaction(sessions) as session:
        for message_id in old + recent:
            await record_processed(
                session, consumer="profiles", message_id=message_id, message_type=TYPE
            )
        await session.execute(
            text(
                "UPDATE processed_events SET processed_at = now() - interval '31 days'"
                " WHERE message_id = ANY(:old)"
            ),
            {"old": old},
        )
        # Just inside the retention: kept.
        await session.execute(
            text(
                "UPDATE processed_events SET processed_at = now() - interval '29 days'"
                " WHERE message_id = :id"
            ),
            {"id": recent[0]},
        )

    start_relay(purge_interval=0.2, inbox_retention=timedelta(days=30))

    async def old_rows_gone() -> bool:
        return await count(sessions, "SELECT count(*) FROM processed_events") == len(recent)

    await wait_until(old_rows_gone, timeout=30, what="the relay to purge the old inbox rows")
    async with sessions() as session:
        kept = set(await session.scalars(text("SELECT message_id FROM processed_events")))
    assert kept == set(recent)

    async with transaction(sessions) as session:
        for message_id in recent:
            assert not await record_processed(
                session, consumer="profiles", message_id=message_id, message_type=TYPE
            ), "a duplicate of a recent message must still be dropped"


async def test_the_inbox_purge_reads_the_processed_at_index_not_the_table(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            text(
                "INSERT INTO processed_events (consumer, message_id, message_type, processed_at)"
                " SELECT 'profiles', gen_random_uuid(), :type, now() - g * interval '1 minute'"
                " FROM generate_series(1, 20000) AS g"
            ),
            {"type": TYPE},
        )
        await session.execute(text("ANALYZE processed_events"))
    from codeflow_messaging.inbox import PURGE_PROCESSED

    async with sessions() as session:
        plan = "\n".join(
            await session.scalars(
                text(f"EXPLAIN {PURGE_PROCESSED.text}"), {"seconds": 30 * 86400, "limit": 1000}
            )
        )
    assert "ix_processed_events_processed_at" in plan, plan
    assert "Seq Scan on processed_events" not in plan, plan
