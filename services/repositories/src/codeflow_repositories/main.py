"""The repositories service's ASGI app, ``create_app(settings)``; nothing is built on import."""

from __future__ import annotations

from fastapi import FastAPI

from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.consumers import consumers
from codeflow_repositories.events import PUBLISHES
from codeflow_repositories.problems import PROBLEMS
from codeflow_repositories.repositories.router import router
from codeflow_service import create_service_app


def create_app(settings: RepositoriesSettings | None = None) -> FastAPI:
    """The repositories service. Settings come from the environment unless given."""
    return create_service_app(
        name="repositories",
        settings=settings or RepositoriesSettings(),
        routers=[router],
        consumers=consumers,
        publishes=PUBLISHES,
        problems=PROBLEMS,
        description="The GitHub repositories each user monitors, and the dashboard query.",
    )
