"""Request dependencies of the janitor's endpoints: its settings, and admin-only access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from codeflow_identity import Identity
from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.errors import AdminOnly
from codeflow_janitor.metrics import JanitorMetrics
from codeflow_service import CurrentIdentity
from codeflow_service.state import service_state_of


def janitor_settings(request: Request) -> JanitorSettings:
    settings = service_state_of(request).settings
    assert isinstance(settings, JanitorSettings)
    return settings


Settings = Annotated[JanitorSettings, Depends(janitor_settings)]


def janitor_metrics(request: Request) -> JanitorMetrics:
    return service_state_of(request).metrics.own(JanitorMetrics)


Metrics = Annotated[JanitorMetrics, Depends(janitor_metrics)]


def require_admin(identity: CurrentIdentity) -> Identity:
    """The caller, if their token carries the ``admin`` claim; 403 otherwise (401 without one)."""
    if not identity.is_admin:
        raise AdminOnly
    return identity


AdminIdentity = Annotated[Identity, Depends(require_admin)]
