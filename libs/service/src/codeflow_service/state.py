"""What a running service holds, as one typed object in the lifespan's state.

The lifespan yields ``{"codeflow": state}`` (Starlette's lifespan state), and every request
finds it again as ``request.state.codeflow``: no attributes set on ``app.state``. A kit
service's state is a :class:`ServiceState`; auth, built apart, yields its own, and both
carry the :class:`Runtime` the shared request dependencies need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_identity import JwksVerifier
from codeflow_messaging import SessionFactory
from codeflow_service.settings import ServiceSettings

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
    """A kit service's state: its name and settings, its runtime, the callers' verifier."""

    name: str
    settings: ServiceSettings
    runtime: Runtime
    verifier: JwksVerifier


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
