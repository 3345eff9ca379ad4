"""Request dependencies of the janitor's endpoints: its settings, and admin-only access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from codeflow_identity import Identity
from codeflow_identity.problems import ProblemError, problem_type
from codeflow_janitor.config import JanitorSettings
from codeflow_service import CurrentIdentity
from codeflow_service.state import service_state_of


def janitor_settings(request: Request) -> JanitorSettings:
    settings = service_state_of(request).settings
    assert isinstance(settings, JanitorSettings)
    return settings


Settings = Annotated[JanitorSettings, Depends(janitor_settings)]


def require_admin(identity: CurrentIdentity) -> Identity:
    """The caller, if their token carries the ``admin`` claim; 403 otherwise (401 without one)."""
    if not identity.is_admin:
        raise ProblemError(
            403,
            problem_type("admin-only"),
            "Admins only",
            "this endpoint is for admins: auth's AUTH_ADMIN_GITHUB_IDS must hold their GitHub "
            "user id",
        )
    return identity


AdminIdentity = Annotated[Identity, Depends(require_admin)]
