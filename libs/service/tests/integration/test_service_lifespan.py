"""A service's own start-up and shut-down run inside the kit's lifespan: after the database,
the broker and the relay are up, and before any of them goes away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text

from codeflow_messaging import ReliableConsumer, SessionFactory
from codeflow_service.app import OwnState, create_service_app
from codeflow_service.settings import RuntimeSettings, ServiceSettings
from codeflow_service.state import Runtime, ServiceState, state_of

pytestmark = pytest.mark.integration


def test_a_services_own_lifespan_runs_inside_the_kits(
    database_url: str, kafka_bootstrap_servers: str
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def own(app: FastAPI, state: ServiceState) -> AsyncIterator[None]:
        assert state.name == "example"
        async with state.runtime.sessions() as session:
            seen.append(f"started {await session.scalar(text('SELECT 1'))}")
        yield
        async with state.runtime.sessions() as session:  # the database is still there
            seen.append(f"stopping {await session.scalar(text('SELECT 2'))}")

    settings = ServiceSettings(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    app = create_service_app(name="example", settings=settings, routers=[], lifespan=own)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        # Requests find the state the lifespan yielded: /readyz checks its database and broker.
        assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "kafka": "ok"}
        assert seen == ["started 1"]
    assert seen == ["started 1", "stopping 2"]


@dataclass(frozen=True)
class ExampleState:
    runtime: Runtime
    greeting: str


def test_a_service_with_a_state_of_its_own_makes_it_first_and_requests_find_it(
    database_url: str, kafka_bootstrap_servers: str
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def make() -> AsyncIterator[str]:
        seen.append("made")
        yield "hello"
        seen.append("closed")

    def consumers(sessions: SessionFactory, group_id: str, made: str) -> list[ReliableConsumer]:
        seen.append(f"consumers of {group_id} with {made}")
        return []

    router = APIRouter()

    @router.get("/example/greeting")
    async def greeting(request: Request) -> str:
        state: ExampleState = state_of(request)
        return state.greeting

    settings = RuntimeSettings(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    app = create_service_app(
        name="example",
        settings=settings,
        routers=[router],
        own_state=OwnState(
            make=make,
            consumers=consumers,
            state=lambda kit, made: ExampleState(kit.runtime, made),
        ),
    )
    with TestClient(app) as client:
        assert client.get("/example/greeting").json() == "hello"
        assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "kafka": "ok"}
        assert seen == ["made", "consumers of example with hello"]
    assert seen[-1] == "closed"
