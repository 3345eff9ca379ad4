"""The profiles service's ASGI app: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.consumers import GROUP_ID, consumers
from codeflow_profiles.events import PUBLISHES
from codeflow_profiles.problems import PROBLEMS
from codeflow_profiles.profiles.router import router as profiles_router
from codeflow_service import create_service_app


def create_app(settings: ProfilesSettings | None = None) -> FastAPI:
    """The profiles service. Settings come from the environment unless given."""
    return create_service_app(
        name=GROUP_ID,
        settings=settings or ProfilesSettings(),
        routers=[profiles_router],
        consumers=consumers,
        publishes=PUBLISHES,
        problems=PROBLEMS,
        description="Users' GitHub profiles, kept from auth's events.",
    )
