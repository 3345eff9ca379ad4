"""Every service's migrations build the same outbox and inbox: the ones codeflow_messaging's
operations build, with the names every service's metadata gives them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from codeflow_infra.postgres import create_database, drop_database
from codeflow_messaging import create_engine
from codeflow_messaging.migrations import add_messaging_housekeeping, create_outbox_and_inbox
from codeflow_messaging.testing import MessagingSchema, describe_messaging_tables, run_operations
from codeflow_service.db import service_metadata
from codeflow_testing.databases import migrated_database

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "services"


async def describe(url: str) -> MessagingSchema:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await describe_messaging_tables(conn)
    finally:
        await engine.dispose()


@pytest.fixture
async def built_by_the_operations(postgres_url: str) -> MessagingSchema:
    name = f"messaging_reference_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_url, name)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_operations, create_outbox_and_inbox, add_messaging_housekeeping)
        return await describe(url)
    finally:
        await engine.dispose()
        await drop_database(postgres_url, name)


@pytest.mark.parametrize("service", ["auth", "profiles", "repositories", "janitor"])
async def test_a_service_migrated_to_head_has_the_messaging_tables_the_operations_build(
    postgres_url: str, service: str, built_by_the_operations: MessagingSchema
) -> None:
    alembic_ini = SERVICES / service / "alembic.ini"
    async with migrated_database(postgres_url, alembic_ini, prefix=f"{service}_messaging") as url:
        assert await describe(url) == built_by_the_operations


async def test_the_operations_build_what_every_services_metadata_declares(
    postgres_url: str, built_by_the_operations: MessagingSchema
) -> None:
    name = f"messaging_declared_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_url, name)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(service_metadata().create_all)
        assert await describe(url) == built_by_the_operations
    finally:
        await engine.dispose()
        await drop_database(postgres_url, name)
