"""The database pool's metrics, read from a real pool on the real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeflow_messaging import create_engine
from codeflow_service.app import DATABASE_POOL_SIZE, create_service_app
from codeflow_service.metrics import ServiceMetrics
from codeflow_service.settings import ServiceSettings
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration

HELD = 0.3


def _samples(exposition: bytes | str) -> dict[str, float]:
    text_form = exposition.decode() if isinstance(exposition, bytes) else exposition
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text_form)
        for sample in family.samples
        if sample.name.startswith("db_pool_")
    }


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=10)
    yield engine
    await engine.dispose()


async def test_the_pool_shows_who_holds_who_waits_and_for_how_long(engine: AsyncEngine) -> None:
    metrics = ServiceMetrics()
    with metrics.pool_of(engine):
        assert _samples(await metrics.exposition()) == {
            "db_pool_size": 1,
            "db_pool_connections_in_use": 0,
            "db_pool_waiting_requests": 0,
            "db_pool_waits_total": 0,
            "db_pool_wait_seconds_total": 0,
        }

        holder = await engine.connect()
        waiter = asyncio.create_task(_connect(engine))

        async def waiting() -> bool:
            return _samples(await metrics.exposition())["db_pool_waiting_requests"] == 1

        await wait_until(waiting, timeout=10, what="a request waiting for the pool")
        now = _samples(await metrics.exposition())
        assert now["db_pool_connections_in_use"] == 1
        assert now["db_pool_waits_total"] == 1

        await asyncio.sleep(HELD)
        await holder.close()
        async with asyncio.timeout(10):
            connection = await waiter
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        await connection.close()

        after = _samples(await metrics.exposition())
        assert after["db_pool_waiting_requests"] == 0
        assert after["db_pool_connections_in_use"] == 0
        assert after["db_pool_waits_total"] == 1
        assert after["db_pool_wait_seconds_total"] >= HELD

    # No samples once the block has ended, and the series still described.
    exposition = (await metrics.exposition()).decode()
    assert _samples(exposition) == {}
    assert "# TYPE db_pool_waits_total counter" in exposition


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    return await engine.connect()


async def test_a_request_served_at_once_is_not_counted_as_a_wait(engine: AsyncEngine) -> None:
    metrics = ServiceMetrics()
    with metrics.pool_of(engine):
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert _samples(await metrics.exposition())["db_pool_waits_total"] == 0


def test_a_service_shows_its_pool_at_metrics(
    database_url: str, kafka_bootstrap_servers: str
) -> None:
    settings = ServiceSettings(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    app = create_service_app(name="example", settings=settings, routers=[])
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        shown = _samples(client.get("/metrics").text)
    assert shown["db_pool_size"] == DATABASE_POOL_SIZE
    assert set(shown) == {
        "db_pool_size",
        "db_pool_connections_in_use",
        "db_pool_waiting_requests",
        "db_pool_waits_total",
        "db_pool_wait_seconds_total",
    }
