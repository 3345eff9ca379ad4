"""What every CodeFlow service is built from.

- :class:`ServiceSettings`: database, Kafka and JWT settings (subclass with an env prefix);
  :class:`RuntimeSettings` without the JWT ones, for auth, which issues the tokens;
- :func:`create_service_app`: the FastAPI app with the shared lifespan and health checks
  (and :class:`OwnState` for a service with a state of its own);
- :data:`DbSession`, :data:`ReadSession`, :data:`ReadConnection` and
  :data:`CurrentIdentity`: the request's transaction, its read-only session or Core
  connection, and its caller.

Names are imported on first use, so that ``codeflow_service.cli`` (every service's command
line) starts without loading the web and Kafka stacks.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codeflow_service.app import OwnState, create_service_app
    from codeflow_service.dependencies import (
        CurrentIdentity,
        DbSession,
        ReadConnection,
        ReadSession,
        db_session,
        read_connection,
        read_session,
    )
    from codeflow_service.settings import Environment, RuntimeSettings, ServiceSettings
    from codeflow_service.state import Runtime, ServiceState

_WHERE = {
    "Runtime": "codeflow_service.state",
    "ServiceState": "codeflow_service.state",
    "OwnState": "codeflow_service.app",
    "create_service_app": "codeflow_service.app",
    "CurrentIdentity": "codeflow_service.dependencies",
    "DbSession": "codeflow_service.dependencies",
    "db_session": "codeflow_service.dependencies",
    "ReadSession": "codeflow_service.dependencies",
    "ReadConnection": "codeflow_service.dependencies",
    "read_connection": "codeflow_service.dependencies",
    "read_session": "codeflow_service.dependencies",
    "Environment": "codeflow_service.settings",
    "RuntimeSettings": "codeflow_service.settings",
    "ServiceSettings": "codeflow_service.settings",
}

__all__ = [
    "CurrentIdentity",
    "DbSession",
    "Environment",
    "OwnState",
    "ReadConnection",
    "ReadSession",
    "Runtime",
    "RuntimeSettings",
    "ServiceSettings",
    "ServiceState",
    "create_service_app",
    "db_session",
    "read_connection",
    "read_session",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'codeflow_service' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
