"""The profiles service's ASGI app: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI

from codeflow_identity.problems import problem_handler_for, problem_type
from codeflow_profiles.config import ProfilesSettings
from codeflow_profiles.consumers import GROUP_ID, consumers
from codeflow_profiles.events import PUBLISHES
from codeflow_profiles.profiles.domain import ProfileNotFound
from codeflow_profiles.profiles.router import router as profiles_router
from codeflow_service import create_service_app

PROFILE_NOT_FOUND = problem_type("profile-not-found")


def create_app(settings: ProfilesSettings | None = None) -> FastAPI:
    """The profiles service. Settings come from the environment unless given."""
    app = create_service_app(
        name=GROUP_ID,
        settings=settings or ProfilesSettings(),
        routers=[profiles_router],
        consumers=consumers,
        publishes=PUBLISHES,
        description="Users' GitHub profiles, kept from auth's events.",
    )
    app.add_exception_handler(
        ProfileNotFound, problem_handler_for(404, PROFILE_NOT_FOUND, "Profile not found")
    )
    return app
