"""The repositories service's ASGI app, ``create_app(settings)``; nothing is built on import."""

from __future__ import annotations

from fastapi import FastAPI

from codeflow_repositories.background import scheduled_refresh
from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.consumers import consumers
from codeflow_repositories.events import PUBLISHES
from codeflow_repositories.github import GitHub
from codeflow_repositories.problems import PROBLEMS
from codeflow_repositories.repositories.router import router
from codeflow_repositories.state import RepositoriesState
from codeflow_service import OwnState, create_service_app


def create_app(settings: RepositoriesSettings | None = None) -> FastAPI:
    """The repositories service. Settings come from the environment unless given."""
    settings = settings or RepositoriesSettings()
    settings.check_secrets()
    return create_service_app(
        name="repositories",
        settings=settings,
        routers=[router],
        publishes=PUBLISHES,
        problems=PROBLEMS,
        description="The GitHub repositories each user monitors, and the dashboard query.",
        own_state=OwnState(
            make=lambda: GitHub.connect(settings),
            consumers=lambda sessions, group_id, github: consumers(sessions, group_id),
            state=lambda state, github: RepositoriesState(
                state.name,
                state.settings,
                state.runtime,
                state.verifier,
                github,
                metrics=state.metrics,
            ),
        ),
        lifespan=lambda app, state: scheduled_refresh(state.runtime.sessions, settings),
    )
