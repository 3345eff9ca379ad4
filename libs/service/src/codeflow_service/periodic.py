"""A service's periodic background work: each job on a fixed interval while the app runs.

A failing round is logged and the next one runs as usual, so an outage of the database or of
what a job calls only delays the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

logger = logging.getLogger("codeflow.periodic")


@dataclass(frozen=True)
class Job:
    """``run`` every ``interval`` (the first time after one interval); named for the logs."""

    name: str
    interval: timedelta
    run: Callable[[], Awaitable[object]]


async def run_every(job: Job) -> None:
    """Run ``job`` on its interval until cancelled."""
    while True:
        await asyncio.sleep(job.interval.total_seconds())
        try:
            await job.run()
        except Exception:
            logger.exception("%s failed; it runs again in %s", job.name, job.interval)


@asynccontextmanager
async def periodic(jobs: Sequence[Job], *, prefix: str) -> AsyncIterator[None]:
    """Run ``jobs`` while the block runs; cancel them, and wait for them, when it ends."""
    tasks = [asyncio.create_task(run_every(job), name=f"{prefix}-{job.name}") for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
