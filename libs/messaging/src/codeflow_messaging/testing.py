"""Test helpers: sessions on a test database, what a database holds of the messaging tables,
a way to run :mod:`codeflow_messaging.migrations` outside Alembic's command line, and a record
as the consumer receives it.

Imported by test suites only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import ConsumerRecord
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from codeflow_messaging.database import SessionFactory, create_engine, create_session_factory
from codeflow_messaging.tables import OUTBOX, PROCESSED_EVENTS

# Columns in table order (attnum ranks, so a column dropped and added again compares by its
# place, not by its number), with what pg_dump would print of them.
_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity, pg_get_expr(d.adbin, d.adrelid),
       pg_get_serial_sequence(quote_ident(c.relname), a.attname)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relname = ANY(:tables)
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""
_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname = current_schema() AND c.conrelid::regclass::text = ANY(:tables)
ORDER BY 1, 2
"""
_INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = ANY(:tables)
ORDER BY 1, 2
"""


@asynccontextmanager
async def sessions_on(database_url: str, **engine_options: Any) -> AsyncIterator[SessionFactory]:
    """Sessions on ``database_url``; their engine (made with ``engine_options``, e.g. a pool
    size) is disposed of afterwards."""
    engine = create_engine(database_url, **engine_options)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


MessagingSchema = dict[str, list[tuple[Any, ...]]]
"""The columns, constraints and indexes of ``outbox`` and ``processed_events``, by kind."""


async def describe_messaging_tables(connection: AsyncConnection) -> MessagingSchema:
    """What the connection's current schema holds of the messaging tables (empty if neither)."""
    tables = {"tables": [OUTBOX, PROCESSED_EVENTS]}
    return {
        kind: [tuple(row) for row in await connection.execute(text(query), tables)]
        for kind, query in (
            ("columns", _COLUMNS),
            ("constraints", _CONSTRAINTS),
            ("indexes", _INDEXES),
        )
    }


def run_operations(connection: Connection, *operations: Callable[[], None]) -> None:
    """Run migration operations (e.g. ``create_outbox_and_inbox``) on ``connection``, in order.

    Call it through ``AsyncConnection.run_sync``; the caller's transaction holds the DDL.
    """
    with Operations.context(MigrationContext.configure(connection)):
        for operation in operations:
            operation()


def received_record(
    headers: Sequence[tuple[str, bytes]] = (), *, value: bytes = b"{}"
) -> ConsumerRecord[bytes, bytes]:
    """A record as a consumer receives it: offset 41 of partition 2 of ``auth.user-events``,
    keyed ``user-1``, with ``value`` (by default ``{}``) and ``headers``."""
    return ConsumerRecord(
        topic="auth.user-events",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"user-1",
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=len(value),
        headers=list(headers),
    )
