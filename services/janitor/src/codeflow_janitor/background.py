"""The janitor's background work: the scheduled sweep and re-sending unanswered commands.

Each job runs in its own transaction on a fixed interval. A failing round is logged and the
next one runs as usual, so a database outage only delays the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.deletions.service import resend_unanswered
from codeflow_janitor.sweeps.service import SweepPolicy, sweep_inactive_users
from codeflow_messaging import SessionFactory, transaction

logger = logging.getLogger("codeflow.janitor.background")


async def run_every(interval: timedelta, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run ``job`` every ``interval`` (the first time after one interval), until cancelled."""
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            await job()
        except Exception:
            logger.exception("%s failed; it runs again in %s", name, interval)


def scheduled_sweep(
    sessions: SessionFactory, settings: JanitorSettings
) -> Callable[[], Awaitable[object]]:
    policy = SweepPolicy.from_settings(settings)

    async def sweep() -> object:
        async with transaction(sessions) as session:
            return await sweep_inactive_users(session, policy, now=datetime.now(UTC))

    return sweep


def resend_job(
    sessions: SessionFactory, settings: JanitorSettings
) -> Callable[[], Awaitable[object]]:
    async def resend() -> object:
        async with transaction(sessions) as session:
            return await resend_unanswered(
                session,
                ack_timeout=settings.ack_timeout,
                now=datetime.now(UTC),
                max_sends=settings.max_sends,
            )

    return resend


@asynccontextmanager
async def background_jobs(
    sessions: SessionFactory, settings: JanitorSettings
) -> AsyncIterator[None]:
    """Run the janitor's periodic jobs while the block runs; cancel them when it ends."""
    tasks = [
        asyncio.create_task(
            run_every(settings.resend_check_interval, resend_job(sessions, settings), "resend"),
            name="janitor-resend",
        )
    ]
    if settings.sweep_interval > timedelta(0):
        tasks.append(
            asyncio.create_task(
                run_every(settings.sweep_interval, scheduled_sweep(sessions, settings), "sweep"),
                name="janitor-sweep",
            )
        )
    else:
        logger.info("scheduled sweeps are off (JANITOR_SWEEP_INTERVAL=0)")
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
