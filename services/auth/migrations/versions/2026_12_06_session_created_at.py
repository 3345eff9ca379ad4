"""``sessions.created_at``: the sign-in that opened a session, from which its absolute
lifetime and the re-authentication window count (ADR 0016).

A session opened before this migration has no record of its sign-in. It gets its expiry
minus 30 days (the session maximum age every such row was written with, Auth.js's and
CodeFlow's default), which is its last opening or slide: never earlier than its real sign-in,
so no session ends before its time, and exactly its sign-in for a session never slid since.
``now()`` caps it, for a row written with a longer maximum age. The update touches every row
of ``sessions`` once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5b7e2d9c4f10"
down_revision: str | None = "a1d0c5e7b201"

NOW_UTC = sa.text("(now() AT TIME ZONE 'UTC')")


def upgrade() -> None:
    op.add_column(
        "sessions", sa.Column("created_at", postgresql.TIMESTAMP(precision=3), nullable=True)
    )
    op.execute(
        "UPDATE sessions SET created_at = "
        "least(expires - interval '30 days', now() AT TIME ZONE 'UTC')"
    )
    op.alter_column("sessions", "created_at", nullable=False, server_default=NOW_UTC)


def downgrade() -> None:
    op.drop_column("sessions", "created_at")
