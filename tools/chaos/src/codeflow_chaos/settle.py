"""Waiting, bounded, for a run to settle: every outbox drained, every consumer group caught
up, every erasure finished, and all of it still so a moment later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition

from codeflow_chaos.reading import fetch, kafka_clients
from codeflow_infra.cluster_config import SERVICES

logger = logging.getLogger("codeflow_chaos")

STABLE_FOR = 3
"""Consecutive looks, a second apart, that must find nothing left to do."""


@dataclass(frozen=True)
class Backlog:
    pending_outbox: dict[str, int]
    lag: dict[str, int]
    """Per consumer group: records on its topics it has not committed yet."""
    open_erasures: int

    @property
    def empty(self) -> bool:
        return (
            not any(self.pending_outbox.values())
            and not any(self.lag.values())
            and (self.open_erasures == 0)
        )

    def __str__(self) -> str:
        outbox = ", ".join(f"{s} {n}" for s, n in self.pending_outbox.items() if n) or "none"
        lag = ", ".join(f"{g} {n}" for g, n in self.lag.items() if n) or "none"
        return f"outbox rows pending: {outbox}; lag: {lag}; erasures open: {self.open_erasures}"


async def backlog(database_url: Callable[[str], str], bootstrap_servers: str) -> Backlog:
    pending = {
        service: int(
            (
                await fetch(
                    database_url(service),
                    "SELECT count(*) FROM outbox "
                    "WHERE published_at IS NULL AND set_aside_at IS NULL",
                )
            )[0][0]
        )
        for service in SERVICES
    }
    [open_erasures] = await fetch(
        database_url("janitor"),
        "SELECT count(*) FROM deletions WHERE completed_at IS NULL AND cancelled_at IS NULL",
    )
    return Backlog(pending, await consumer_lag(bootstrap_servers), int(open_erasures[0]))


async def consumer_lag(bootstrap_servers: str) -> dict[str, int]:
    """Per consumer group, how far its committed offsets are behind the ends of its topics."""
    lag: dict[str, int] = {}
    async with kafka_clients(bootstrap_servers) as (admin, consumer):
        for group, _ in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group)
            partitions = [tp for tp in committed if isinstance(tp, TopicPartition)]
            ends = await consumer.end_offsets(partitions) if partitions else {}
            lag[group] = sum(
                max(0, ends[tp] - meta.offset)
                for tp, meta in committed.items()
                if tp in ends and meta.offset >= 0
            )
    return lag


async def settle(
    database_url: Callable[[str], str], bootstrap_servers: str, *, timeout: float
) -> tuple[bool, Backlog]:
    """Wait until nothing is left to do (``STABLE_FOR`` looks in a row), at most ``timeout``
    seconds; whether it settled, and the last backlog seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    seen = Backlog({}, {}, -1)
    while True:
        try:
            seen = await backlog(database_url, bootstrap_servers)
        except (OSError, asyncpg.PostgresError) as error:
            logger.info("settling: cannot look yet (%s)", error)
            quiet = 0
        else:
            quiet = quiet + 1 if seen.empty else 0
            if quiet >= STABLE_FOR:
                return True, seen
        if loop.time() >= deadline:
            return False, seen
        await asyncio.sleep(1.0)
