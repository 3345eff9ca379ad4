"""Toxiproxy between a client and the real PostgreSQL: built by the project's own code, run
on loopback, and its faults are real (the connection waits, or is cut, then comes back)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from sqlalchemy.engine import make_url

from codeflow_infra import processes
from codeflow_infra.config import InfraConfig
from codeflow_infra.toxiproxy import Toxiproxy, server
from codeflow_testing.ports import free_ports

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
async def toxiproxy(infra_config: InfraConfig) -> AsyncIterator[Toxiproxy]:
    component = server(infra_config, free_ports(1)[0], name="toxiproxy-test")
    await asyncio.to_thread(component.start)
    try:
        await asyncio.to_thread(component.wait_ready, 30)
        async with Toxiproxy(component.port) as api:
            yield api
    finally:
        await asyncio.to_thread(component.stop)
    assert not processes.port_accepts("127.0.0.1", component.port)


async def timed_select(url: str) -> float:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        started = time.monotonic()
        assert await connection.fetchval("SELECT 1") == 1
        return time.monotonic() - started
    finally:
        await connection.close()


async def test_a_proxy_to_postgres_adds_latency_cuts_and_comes_back(
    toxiproxy: Toxiproxy, postgres_url: str
) -> None:
    real = make_url(postgres_url)
    listen = await toxiproxy.proxy(
        "postgres", upstream=f"{real.host}:{real.port}", listen_port=free_ports(1)[0]
    )
    host, port = listen.split(":")
    proxied = real.set(host=host, port=int(port)).render_as_string(hide_password=False)

    assert await timed_select(proxied) < 0.25

    toxic = await toxiproxy.add_toxic("postgres", "latency", {"latency": 300})
    assert await timed_select(proxied) >= 0.3
    await toxiproxy.remove_toxic("postgres", toxic)

    held = await asyncpg.connect(proxied, timeout=10)
    try:
        await toxiproxy.cut("postgres")
        with pytest.raises((OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)):
            await asyncio.wait_for(held.fetchval("SELECT 1"), timeout=10)
        with pytest.raises((OSError, asyncpg.PostgresConnectionError, asyncio.TimeoutError)):
            await asyncpg.connect(proxied, timeout=5)
    finally:
        held.terminate()

    await toxiproxy.restore("postgres")
    assert await timed_select(proxied) < 0.25
