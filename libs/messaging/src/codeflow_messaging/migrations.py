"""The Alembic operations that build the outbox and inbox tables, one pair per version.

Every service's migrations call these instead of spelling the tables out, so the four databases
hold the same ``outbox`` and ``processed_events``. Migrations are history: a database that ran
a revision has that revision's DDL, whatever the code says today. So each function here emits
exactly what its version emitted, written out rather than derived from :mod:`.tables`, and never
changes once a revision calls it. A change to the tables is a new pair of functions, a change to
:func:`~codeflow_messaging.tables.add_messaging_tables`, and a new revision in every service
that calls the new ``upgrade`` function (``alembic check`` in each service's schema test catches
a service that forgot).

=============  =======================================================================
version        operations
=============  =======================================================================
1 (Nov 2026)   :func:`create_outbox_and_inbox` / :func:`drop_outbox_and_inbox`
2 (ADR 0011)   :func:`add_messaging_housekeeping` / :func:`drop_messaging_housekeeping`
=============  =======================================================================
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

OUTBOX = "outbox"
PROCESSED_EVENTS = "processed_events"
PENDING = "published_at IS NULL"
REFUSED = "published_at IS NULL AND refusals > 0"
NOW = sa.text("now()")


def create_outbox_and_inbox() -> None:
    """Create ``outbox`` and ``processed_events`` as they were first: no set-aside, no purge index.

    Constraint names are the ones the services' naming convention gives (``pk_outbox``, ...).
    """
    op.create_table(
        OUTBOX,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("message_type", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index(
        "ix_outbox_pending", OUTBOX, ["id"], unique=False, postgresql_where=sa.text(PENDING)
    )
    op.create_index(
        "ix_outbox_pending_key",
        OUTBOX,
        ["key", "id"],
        unique=False,
        postgresql_where=sa.text(PENDING),
    )
    op.create_table(
        PROCESSED_EVENTS,
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("message_type", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_processed_events")),
    )


def drop_outbox_and_inbox() -> None:
    """Undo :func:`create_outbox_and_inbox`: drop both tables, and every message in them."""
    op.drop_table(PROCESSED_EVENTS)
    op.drop_index("ix_outbox_pending_key", table_name=OUTBOX, postgresql_where=sa.text(PENDING))
    op.drop_index("ix_outbox_pending", table_name=OUTBOX, postgresql_where=sa.text(PENDING))
    op.drop_table(OUTBOX)


def add_messaging_housekeeping() -> None:
    """Outbox rows set aside after Kafka refused them, and the inbox purge's index (ADR 0011).

    Adds ``outbox.refusals`` and ``outbox.set_aside_at``, the partial index of refused rows
    the relay's claim reads, and an index on ``processed_events.processed_at``.

    Adding the two columns rewrites nothing (a constant default). Building the processed_at
    index holds back inbox inserts while it reads the table; where ``processed_events`` is
    large, build it first with ``CREATE INDEX CONCURRENTLY ix_processed_events_processed_at ON
    processed_events (processed_at)`` and this operation keeps it.
    """
    op.add_column(
        OUTBOX,
        sa.Column("refusals", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(OUTBOX, sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_refused_key",
        OUTBOX,
        ["key", "id"],
        unique=False,
        postgresql_where=sa.text(REFUSED),
    )
    op.create_index(
        "ix_processed_events_processed_at",
        PROCESSED_EVENTS,
        ["processed_at"],
        unique=False,
        if_not_exists=True,
    )


def drop_messaging_housekeeping() -> None:
    """Undo :func:`add_messaging_housekeeping`; rows set aside go back to plain pending ones."""
    op.drop_index("ix_processed_events_processed_at", table_name=PROCESSED_EVENTS)
    op.drop_index("ix_outbox_refused_key", table_name=OUTBOX, postgresql_where=sa.text(REFUSED))
    op.drop_column(OUTBOX, "set_aside_at")
    op.drop_column(OUTBOX, "refusals")
