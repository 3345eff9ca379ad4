"""deletions: auth's decision (cancelled), the sweep's cutoff, and the command's identity.

A deletion for inactivity now carries the cutoff auth judges activity against, and may end
cancelled (with the reason) instead of complete; the partial indexes of pending deletions
leave cancelled ones out. ``command_id`` is the envelope id every re-send reuses. Deletions
in flight are sent to auth again (see ``upgrade``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "6a2f9d4c8e17"
down_revision: str | None = "d4a3f8b1e504"

PENDING_BEFORE = sa.text("completed_at IS NULL")
PENDING = sa.text("completed_at IS NULL AND cancelled_at IS NULL")


def _pending_indexes(where: sa.TextClause) -> None:
    op.create_index(
        "ux_deletions_pending_user", "deletions", ["user_id"], unique=True, postgresql_where=where
    )
    op.create_index(
        "ix_deletions_pending_last_sent_at",
        "deletions",
        ["last_sent_at"],
        unique=False,
        postgresql_where=where,
    )


def _drop_pending_indexes() -> None:
    op.drop_index("ux_deletions_pending_user", table_name="deletions")
    op.drop_index("ix_deletions_pending_last_sent_at", table_name="deletions")


def upgrade() -> None:
    op.add_column("deletions", sa.Column("inactive_since", sa.DateTime(timezone=True)))
    op.add_column("deletions", sa.Column("command_id", sa.Uuid()))
    op.add_column("deletions", sa.Column("cancelled_at", sa.DateTime(timezone=True)))
    op.add_column("deletions", sa.Column("cancellation", sa.Text()))
    op.create_check_constraint(
        op.f("ck_deletions_one_ending"),
        "deletions",
        "completed_at IS NULL OR cancelled_at IS NULL",
    )
    _drop_pending_indexes()
    _pending_indexes(PENDING)
    # Deletions in flight were sent to every service; profiles and repositories now act on
    # auth's UserDeleted instead. Forgetting auth's acknowledgement, and the sends so far
    # (counted against the new limit), makes the janitor send the command to auth again,
    # which answers with UserDeleted for a user already gone.
    op.execute("UPDATE deletions SET auth_acked_at = NULL, attempts = 1 WHERE completed_at IS NULL")


def downgrade() -> None:
    # Cancelled deletions have no place in the older ledger: they go, as if never issued.
    op.execute("DELETE FROM deletions WHERE cancelled_at IS NOT NULL")
    _drop_pending_indexes()
    _pending_indexes(PENDING_BEFORE)
    op.drop_constraint(op.f("ck_deletions_one_ending"), "deletions", type_="check")
    op.drop_column("deletions", "cancellation")
    op.drop_column("deletions", "cancelled_at")
    op.drop_column("deletions", "command_id")
    op.drop_column("deletions", "inactive_since")
