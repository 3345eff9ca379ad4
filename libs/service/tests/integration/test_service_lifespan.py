"""A service's own start-up and shut-down run inside the kit's lifespan: after the database,
the broker and the relay are up, and before any of them goes away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from codeflow_service.app import create_service_app
from codeflow_service.settings import ServiceSettings
from codeflow_service.state import ServiceState

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
