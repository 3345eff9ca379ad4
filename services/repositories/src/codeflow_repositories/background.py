"""The scheduled refresh (ADR 0023): every ``REPOSITORIES_REFRESH_INTERVAL``, the rows GitHub
wasn't asked about for ``REPOSITORIES_REFRESH_MAX_AGE`` are asked about again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from codeflow_messaging import SessionFactory
from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.github import GitHub
from codeflow_repositories.repositories.refresh import Counts, refresh_due
from codeflow_service.periodic import Job, periodic

logger = logging.getLogger("codeflow.repositories.background")


@asynccontextmanager
async def scheduled_refresh(
    sessions: SessionFactory, settings: RepositoriesSettings
) -> AsyncIterator[None]:
    """Run the scheduled refresh while the block runs (not at all with an interval of 0)."""
    if settings.refresh_interval <= timedelta(0):
        logger.info("the scheduled refresh is off (REPOSITORIES_REFRESH_INTERVAL=0)")
        yield
        return
    async with GitHub.connect(settings) as github:

        async def round_() -> Counts:
            return await refresh_due(
                sessions,
                github,
                max_age=settings.refresh_max_age,
                batch_size=settings.refresh_batch_size,
                now=datetime.now(UTC),
            )

        async with periodic(
            [Job("refresh", settings.refresh_interval, round_)], prefix="repositories"
        ):
            yield
