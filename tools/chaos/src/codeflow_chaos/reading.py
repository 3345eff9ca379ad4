"""Reading a settled system into a :class:`~codeflow_chaos.state.SystemState`: every
service's database (its outbox and inbox too), the janitor's ledger, and every dead-letter
topic on Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from codeflow_chaos.state import Applied, Erasure, Produced, SystemState
from codeflow_messaging.kafka import create_admin, create_consumer

SERVICES = ("auth", "profiles", "repositories", "janitor")

STUCK_AFTER = timedelta(seconds=30)
"""An outbox row still pending this long after the run settled is stuck."""


async def read_state(database_url: Callable[[str], str], bootstrap_servers: str) -> SystemState:
    """The state of the system whose service ``s`` keeps its data at ``database_url(s)``."""
    rows = {
        "auth_users": ("auth", "SELECT id FROM users"),
        "profiles": ("profiles", "SELECT user_id FROM user_profiles"),
        "activity": ("janitor", "SELECT user_id FROM user_activity"),
    }
    found = {
        name: frozenset(r[0] for r in await fetch(database_url(service), sql))
        for name, (service, sql) in rows.items()
    }
    repositories = frozenset(
        (r["user_id"], r["github_id"])
        for r in await fetch(
            database_url("repositories"), "SELECT user_id, github_id FROM repositories"
        )
    )
    erasures = tuple(
        Erasure(**dict(r))
        for r in await fetch(
            database_url("janitor"),
            "SELECT user_id, reason, requested_at, inactive_since, auth_acked_at, "
            "completed_at, cancelled_at FROM deletions ORDER BY requested_at",
        )
    )
    stuck = {}
    produced: list[Produced] = []
    applied: list[Applied] = []
    for service in SERVICES:
        url = database_url(service)
        produced.extend(
            Produced(
                service, r["id"], str(r["message_id"]), r["topic"], r["key"], r["message_type"]
            )
            for r in await fetch(url, "SELECT id, message_id, topic, key, message_type FROM outbox")
        )
        applied.extend(
            Applied(r["consumer"], str(r["message_id"]), r["message_type"], r["processed_at"])
            for r in await fetch(
                url, "SELECT consumer, message_id, message_type, processed_at FROM processed_events"
            )
        )
        [row] = await fetch(
            url,
            "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL OR "
            "(published_at IS NULL AND created_at < now() - make_interval(secs => $1))",
            STUCK_AFTER.total_seconds(),
        )
        stuck[service] = int(row[0])
    return SystemState(
        auth_users=found["auth_users"],
        profiles=found["profiles"],
        repositories=repositories,
        activity=found["activity"],
        erasures=erasures,
        dead_letters=await dead_letters(bootstrap_servers),
        stuck_outbox_rows=stuck,
        produced=tuple(produced),
        applied=tuple(applied),
    )


@asynccontextmanager
async def kafka_clients(
    bootstrap_servers: str,
) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    """An admin client and a group-less consumer (for offsets), closed afterwards."""
    admin = create_admin(bootstrap_servers)
    consumer = create_consumer(bootstrap_servers)
    await admin.start()
    try:
        await consumer.start()
        try:
            yield admin, consumer
        finally:
            await consumer.stop()
    finally:
        await admin.close()


async def dead_letters(bootstrap_servers: str) -> dict[str, int]:
    """Records held by each dead-letter topic (``*.dlq``)."""
    async with kafka_clients(bootstrap_servers) as (admin, consumer):
        topics = sorted(t for t in await admin.list_topics() if t.endswith(".dlq"))
        partitions = [
            TopicPartition(d["topic"], p["partition"])
            for d in (await admin.describe_topics(topics) if topics else [])
            for p in d["partitions"]
        ]
        if not partitions:
            return {}
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    held: dict[str, int] = dict.fromkeys(topics, 0)
    for tp in partitions:
        held[tp.topic] += ends[tp] - starts[tp]
    return held


async def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """The rows of one query, on a connection of its own."""
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()
