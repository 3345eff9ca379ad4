"""The migration operations build the tables ``add_messaging_tables`` declares, and undo them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_infra.postgres import create_database, drop_database
from codeflow_messaging import add_messaging_tables, create_engine
from codeflow_messaging.migrations import (
    add_messaging_housekeeping,
    create_outbox_and_inbox,
    drop_messaging_housekeeping,
    drop_outbox_and_inbox,
)
from codeflow_messaging.testing import MessagingSchema, describe_messaging_tables, run_operations

pytestmark = pytest.mark.integration

# The names every service's metadata gives keys (codeflow_service.db.NAMING_CONVENTION).
NAMING_CONVENTION = {"pk": "pk_%(table_name)s", "uq": "uq_%(table_name)s_%(column_0_N_name)s"}


NewDatabase = Callable[[], Awaitable[AsyncEngine]]


@pytest.fixture
async def new_database(postgres_url: str) -> AsyncIterator[NewDatabase]:
    """Makes empty databases, each dropped after the test."""
    created: list[tuple[str, AsyncEngine]] = []

    async def new() -> AsyncEngine:
        name = f"messaging_migrations_{uuid.uuid4().hex[:12]}"
        engine = create_engine(await create_database(postgres_url, name))
        created.append((name, engine))
        return engine

    yield new
    for name, engine in created:
        await engine.dispose()
        await drop_database(postgres_url, name)


@pytest.fixture
async def engine(new_database: NewDatabase) -> AsyncEngine:
    return await new_database()


async def migrate(engine: AsyncEngine, *operations: Callable[[], None]) -> MessagingSchema:
    async with engine.begin() as conn:
        await conn.run_sync(run_operations, *operations)
        return await describe_messaging_tables(conn)


async def test_the_latest_operations_build_exactly_the_declared_tables(
    engine: AsyncEngine, new_database: NewDatabase
) -> None:
    migrated = await migrate(engine, create_outbox_and_inbox, add_messaging_housekeeping)

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    add_messaging_tables(metadata)
    async with (await new_database()).begin() as conn:
        await conn.run_sync(metadata.create_all)
        declared = await describe_messaging_tables(conn)

    assert migrated == declared
    assert [column[1] for column in migrated["columns"] if column[0] == "outbox"][-2:] == [
        "refusals",
        "set_aside_at",
    ]


async def test_each_versions_downgrade_undoes_its_upgrade(engine: AsyncEngine) -> None:
    first = await migrate(engine, create_outbox_and_inbox)
    latest = await migrate(engine, add_messaging_housekeeping)
    assert latest != first

    assert await migrate(engine, drop_messaging_housekeeping) == first
    assert await migrate(engine, add_messaging_housekeeping) == latest
    assert await migrate(engine, drop_messaging_housekeeping, drop_outbox_and_inbox) == {
        "columns": [],
        "constraints": [],
        "indexes": [],
    }


async def test_the_housekeeping_keeps_a_purge_index_built_beforehand(engine: AsyncEngine) -> None:
    await migrate(engine, create_outbox_and_inbox)
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(
            text(
                "CREATE INDEX CONCURRENTLY ix_processed_events_processed_at"
                " ON processed_events (processed_at)"
            )
        )

    migrated = await migrate(engine, add_messaging_housekeeping)

    assert "ix_processed_events_processed_at" in {index[1] for index in migrated["indexes"]}
