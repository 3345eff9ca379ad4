"""The messaging tables' housekeeping: outbox rows set aside after Kafka refused them
(``refusals``, ``set_aside_at``, and the partial index the relay's claim reads), and an index
on ``processed_events.processed_at`` for the inbox purge. See ADR 0011.

Adding the two columns rewrites nothing (a constant default). Building the processed_at index
holds back inbox inserts while it reads the table; where ``processed_events`` is large, build
it first with ``CREATE INDEX CONCURRENTLY ix_processed_events_processed_at ON
processed_events (processed_at)`` and this migration keeps it.

Revision ID: a1d0c5e7b201
Revises: 3f2a9c1d7e40
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d0c5e7b201"
down_revision: str | None = "3f2a9c1d7e40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = sa.text("published_at IS NULL AND refusals > 0")


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("refusals", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("outbox", sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_refused_key",
        "outbox",
        ["key", "id"],
        unique=False,
        postgresql_where=REFUSED,
    )
    op.create_index(
        "ix_processed_events_processed_at",
        "processed_events",
        ["processed_at"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_index("ix_outbox_refused_key", table_name="outbox", postgresql_where=REFUSED)
    op.drop_column("outbox", "set_aside_at")
    op.drop_column("outbox", "refusals")
