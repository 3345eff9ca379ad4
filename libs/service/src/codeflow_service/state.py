"""What a running service holds, as one typed object in the lifespan's state.

The lifespan yields ``{"codeflow": state}`` (Starlette's lifespan state), and every request
finds it again as ``request.state.codeflow``: no attributes set on ``app.state``. It is a
:class:`ServiceState`, or a service's own state built from it (auth's), and either carries the
:class:`Runtime` the shared request dependencies need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Request
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_identity import JwksVerifier
from codeflow_messaging import SessionFactory
from codeflow_service.metrics import ServiceMetrics
from codeflow_service.settings import RuntimeSettings

STATE_KEY = "codeflow"


@dataclass(frozen=True)
class Runtime:
    """The database and Kafka side of a running service."""

    engine: AsyncEngine
    read_engine: AsyncEngine
    """The same database in autocommit, for endpoints that only read."""
    sessions: SessionFactory
    read_sessions: SessionFactory
    broker: KafkaBroker


class HasRuntime(Protocol):
    @property
    def runtime(self) -> Runtime: ...


@dataclass(frozen=True)
class ServiceState:
    """A kit service's state: its name and settings, its runtime, the callers' verifier,
    and the app's metrics (where a service makes its own, :meth:`ServiceMetrics.own`).

    ``verifier`` is None in auth, which issues the callers' tokens instead of verifying them.
    """

    name: str
    settings: RuntimeSettings
    runtime: Runtime
    verifier: JwksVerifier | None
    metrics: ServiceMetrics = field(kw_only=True)


def lifespan_state(state: HasRuntime) -> dict[str, Any]:
    """What a lifespan yields so that requests find ``state``."""
    return {STATE_KEY: state}


def state_of(request: Request) -> Any:
    """The state the lifespan yielded (a :class:`ServiceState`, or auth's own)."""
    return getattr(request.state, STATE_KEY)


def runtime_of(request: Request) -> Runtime:
    state: HasRuntime = state_of(request)
    return state.runtime


def service_state_of(request: Request) -> ServiceState:
    state: ServiceState = state_of(request)
    return state


def verifier_of(request: Request) -> JwksVerifier:
    """The verifier of the callers' JWTs; a service without one can't take ``CurrentIdentity``."""
    verifier = service_state_of(request).verifier
    if verifier is None:
        raise RuntimeError("this service verifies no callers: its settings are no ServiceSettings")
    return verifier
