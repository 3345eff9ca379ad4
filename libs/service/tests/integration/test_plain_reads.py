"""A plain read on the real PostgreSQL: the rows SQLAlchemy would give, by the driver itself,
and SQLAlchemy's own path where a span or a failure needs it (ADR 0045)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.test.globals_test import reset_trace_globals
from opentelemetry.trace import SpanKind
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    bindparam,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_messaging import create_engine
from codeflow_messaging.database import read_only
from codeflow_service.plain_reads import PlainQuery
from codeflow_service.tracing_sdk import trace_statements
from codeflow_testing.databases import statements_sent

pytestmark = pytest.mark.integration

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("count", Integer),
    Column("active", Boolean, nullable=False),
    Column("seen_at", DateTime(timezone=True)),
    Column("details", JSONB),
)

PAGE = (
    select(items)
    .where(items.c.owner == bindparam("owner", type_=Text))
    .where(
        tuple_(items.c.name, items.c.id)
        > tuple_(bindparam("after_name", type_=Text), bindparam("after_id", type_=Uuid))
    )
    .order_by(items.c.name, items.c.id)
    .limit(bindparam("limit", type_=Integer))
)
AFTER_NOTHING = {"after_name": "", "after_id": uuid.UUID(int=0)}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=3, max_overflow=0)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            items.insert(),
            [
                {
                    "id": uuid.UUID(int=n),
                    "owner": "ada" if n % 4 else "grace",
                    "name": f"item-{n:02d}",
                    "count": None if n % 3 == 0 else n * 7,
                    "active": n % 2 == 0,
                    "seen_at": None if n == 5 else datetime(2026, 12, 7, n, 30, tzinfo=UTC),
                    "details": None if n % 5 == 0 else {"n": n, "tags": ["a", "ü"]},
                }
                for n in range(1, 21)
            ],
        )
    yield read_only(engine)
    await engine.dispose()


@pytest.fixture
def statements_through_sqlalchemy(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL of each statement SQLAlchemy's execution sends (what its instrumentation sees)."""
    with statements_sent(engine) as sent:
        yield sent


async def test_a_plain_read_returns_the_rows_sqlalchemy_returns_by_the_driver_alone(
    engine: AsyncEngine, statements_through_sqlalchemy: list[str]
) -> None:
    query = PlainQuery(PAGE)
    cases = [
        {"owner": "ada", "limit": 50} | AFTER_NOTHING,
        {"owner": "ada", "limit": 4, "after_name": "item-06", "after_id": uuid.UUID(int=6)},
        {"owner": "grace", "limit": 2} | AFTER_NOTHING,
        {"owner": "nobody", "limit": 50} | AFTER_NOTHING,
    ]
    found = []
    async with engine.connect() as connection:
        for parameters in cases:
            statements_through_sqlalchemy.clear()
            plain = await query.rows(connection, parameters)
            assert statements_through_sqlalchemy == []
            expected = (await connection.execute(PAGE, parameters)).mappings().all()
            found.append(len(plain))
            assert [dict(row) for row in plain] == [dict(row) for row in expected]
            assert [[type(value) for value in row.values()] for row in plain] == [
                [type(value) for value in row.values()] for row in expected
            ]
    assert found == [15, 4, 2, 0]


async def test_with_tracing_on_a_plain_read_runs_through_sqlalchemy_and_is_a_span(
    engine: AsyncEngine, statements_through_sqlalchemy: list[str]
) -> None:
    reset_trace_globals()
    recorded = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(recorded))
    trace.set_tracer_provider(provider)
    tracer = trace_statements(engine)
    try:
        async with engine.connect() as connection:
            rows = await PlainQuery(PAGE).rows(
                connection, {"owner": "grace", "limit": 50} | AFTER_NOTHING
            )
    finally:
        tracer.remove_all_event_listeners()
        provider.shutdown()
        reset_trace_globals()
    assert [row["name"] for row in rows] == ["item-04", "item-08", "item-12", "item-16", "item-20"]
    assert len(statements_through_sqlalchemy) == 1
    [span] = [s for s in recorded.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert span.name == "SELECT"


async def test_after_its_connection_died_a_plain_read_fails_as_sqlalchemy_fails_it(
    engine: AsyncEngine, statements_through_sqlalchemy: list[str]
) -> None:
    query = PlainQuery(PAGE)
    async with engine.connect() as connection:
        backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        statements_through_sqlalchemy.clear()
        with pytest.raises(DBAPIError) as failed:
            await query.rows(connection, {"owner": "ada", "limit": 1} | AFTER_NOTHING)
    # The driver's error was handed to SQLAlchemy's path, which named it a lost connection
    # (the pool is replaced, the request answers 503) rather than letting it out raw.
    assert statements_through_sqlalchemy == [query.sql]
    assert failed.value.connection_invalidated


def test_a_statement_whose_values_sqlalchemy_converts_is_refused() -> None:
    expanding = select(items.c.id).where(items.c.name.in_(bindparam("names", expanding=True)))
    with pytest.raises(TypeError, match="parameter 'names'"):
        PlainQuery(expanding)
