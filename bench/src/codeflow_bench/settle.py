"""Each benchmark begins on a settled cluster, not in the wake of the one before it.

A step can leave work behind that outlives it: after B4 and B5 the relays purge what they
published, autovacuum goes through the rows the saga deleted, the consumers of the other
services skip what they didn't handle. So before each step the bench waits until the whole
cluster (the services, the stand-in, the gateway, PostgreSQL and Kafka with their children)
uses at most ``SETTLED_SHARE`` of one core over a window of ``WINDOW_SECONDS``, for at most the
plan's ``settle_longest`` seconds, and reports how long it waited and how busy the cluster
was when the step began. A cluster that never settles is reported as such; the step runs
all the same.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from codeflow_bench.memory import idle_cpu_percent
from codeflow_bench.target import PIECES, Target

SETTLED_SHARE = 25.0
"""The whole cluster's CPU, in % of one core, at or under which it counts as settled. At
rest it uses 1-5%, with Kafka's own moments of up to 16% in a second."""

WINDOW_SECONDS = 2.0


@dataclass(frozen=True)
class Settling:
    """How long a step waited for the cluster, and its CPU (% of one core) over the last
    window before the step began."""

    waited: float
    busy: float

    @property
    def settled(self) -> bool:
        return self.busy <= SETTLED_SHARE


async def settle(
    cluster_busy: Callable[[], Awaitable[float]],
    *,
    longest: float,
    clock: Callable[[], float] = time.monotonic,
) -> Settling:
    """Measure ``cluster_busy`` window after window until it is at most ``SETTLED_SHARE``, or
    ``longest`` seconds have passed."""
    began = clock()
    while True:
        busy = await cluster_busy()
        waited = clock() - began
        settling = Settling(round(waited, 1), busy)
        if settling.settled or waited >= longest:
            return settling


def cluster_busy(target: Target) -> Callable[[], Awaitable[float]]:
    """The cluster's CPU over the next ``WINDOW_SECONDS``, in % of one core."""

    async def measure() -> float:
        shares = await asyncio.to_thread(idle_cpu_percent, target, WINDOW_SECONDS, PIECES)
        return round(sum(share for share in shares.values() if share is not None), 1)

    return measure
