"""The outbox and inbox tables, added to each service's own metadata.

Every service owns an ``outbox`` and a ``processed_events`` table in its own database. They are
declared here once; a service calls :func:`add_messaging_tables` on its metadata so that
``alembic check`` sees them. Its migrations create them with the operations of
:mod:`codeflow_messaging.migrations`; a change here needs a new version there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

OUTBOX = "outbox"
PROCESSED_EVENTS = "processed_events"


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed_events: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare ``outbox`` and ``processed_events`` on ``metadata`` and return them."""
    outbox = Table(
        OUTBOX,
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("message_id", Uuid, nullable=False, unique=True),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("message_type", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text, nullable=True),
        # How many times Kafka refused the record itself (never counts an outage), and when
        # the relay stopped trying it (ADR 0011).
        Column("refusals", Integer, nullable=False, server_default=text("0")),
        Column("set_aside_at", DateTime(timezone=True), nullable=True),
        Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
        Index(
            "ix_outbox_pending_key",
            "key",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
        # The refused rows still pending (set aside or not): the claim looks up whether a key
        # has one before a row. Almost always empty, so the look-up costs next to nothing.
        Index(
            "ix_outbox_refused_key",
            "key",
            "id",
            postgresql_where=text("published_at IS NULL AND refusals > 0"),
        ),
    )
    processed_events = Table(
        PROCESSED_EVENTS,
        metadata,
        Column("consumer", Text, nullable=False),
        Column("message_id", Uuid, nullable=False),
        Column("message_type", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "message_id"),
        # The relay's housekeeping deletes the oldest rows without reading the whole table.
        Index("ix_processed_events_processed_at", "processed_at"),
    )
    return MessagingTables(outbox=outbox, processed_events=processed_events)
