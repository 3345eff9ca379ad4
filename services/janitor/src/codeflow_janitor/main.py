"""The janitor's ASGI app: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from codeflow_janitor.background import background_jobs
from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.consumers import GROUP_ID, consumers
from codeflow_janitor.deletions.router import router as deletions_router
from codeflow_janitor.events import PUBLISHES
from codeflow_janitor.metrics import JanitorMetrics
from codeflow_janitor.problems import PROBLEMS
from codeflow_janitor.sweeps.router import router as sweeps_router
from codeflow_service import create_service_app
from codeflow_service.metrics import ServiceMetrics


def create_app(settings: JanitorSettings | None = None) -> FastAPI:
    """The janitor service. Settings come from the environment unless given."""
    settings = settings or JanitorSettings()
    metrics = ServiceMetrics()
    metrics.own(JanitorMetrics)  # shown from the first scrape, before the ledger is read
    return create_service_app(
        name=GROUP_ID,
        settings=settings,
        routers=[sweeps_router, deletions_router],
        consumers=consumers,
        publishes=PUBLISHES,
        problems=PROBLEMS,
        metrics=metrics,
        description="Sweeps inactive users and runs the deletion saga across services.",
        # The periodic jobs start once the database and the broker are up, and stop before
        # either goes away.
        lifespan=lambda app, state: background_jobs(
            state.runtime.sessions, settings, state.metrics
        ),
    )
