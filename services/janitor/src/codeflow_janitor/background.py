"""The janitor's background work: the scheduled sweep and re-sending unanswered commands.

Each job runs in its own transaction on a fixed interval (:mod:`codeflow_service.periodic`).
While they run, the deletions ledger is also counted at each scrape of ``/metrics``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.deletions.service import resend_unanswered
from codeflow_janitor.metrics import JanitorMetrics
from codeflow_janitor.sweeps.service import SweepPolicy, sweep_inactive_users
from codeflow_messaging import SessionFactory, transaction
from codeflow_service.metrics import ServiceMetrics
from codeflow_service.periodic import Job, periodic

logger = logging.getLogger("codeflow.janitor.background")


def scheduled_sweep(
    sessions: SessionFactory, settings: JanitorSettings, metrics: JanitorMetrics
) -> Callable[[], Awaitable[object]]:
    policy = SweepPolicy.from_settings(settings)

    async def sweep() -> object:
        async with transaction(sessions) as session:
            report = await sweep_inactive_users(session, policy, now=datetime.now(UTC))
        metrics.swept(report)
        return report

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
    sessions: SessionFactory, settings: JanitorSettings, metrics: ServiceMetrics
) -> AsyncIterator[None]:
    """Run the janitor's periodic jobs while the block runs; cancel them when it ends. The
    sweeps are counted in ``metrics``, and the ledger is counted at each scrape."""
    janitor = metrics.own(JanitorMetrics)
    jobs = [Job("resend", settings.resend_check_interval, resend_job(sessions, settings))]
    if settings.sweep_interval > timedelta(0):
        jobs.append(
            Job("sweep", settings.sweep_interval, scheduled_sweep(sessions, settings, janitor))
        )
    else:
        logger.info("scheduled sweeps are off (JANITOR_SWEEP_INTERVAL=0)")
    ledger = partial(janitor.measure, sessions, ack_timeout=settings.ack_timeout)
    with metrics.measured_at_scrape(ledger):
        async with periodic(jobs, prefix="janitor"):
            yield
