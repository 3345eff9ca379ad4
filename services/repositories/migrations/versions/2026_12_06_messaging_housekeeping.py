"""The messaging tables' housekeeping (ADR 0011): outbox rows set aside after Kafka refused
them, and an index for the inbox purge. What it does, and how to build the index beforehand on
a large ``processed_events``: :func:`codeflow_messaging.migrations.add_messaging_housekeeping`.

Revision ID: c3f2e7a9d403
Revises: fc5208a6324d
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from codeflow_messaging.migrations import add_messaging_housekeeping, drop_messaging_housekeeping

revision: str = "c3f2e7a9d403"
down_revision: str | None = "fc5208a6324d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_messaging_housekeeping()


def downgrade() -> None:
    drop_messaging_housekeeping()
