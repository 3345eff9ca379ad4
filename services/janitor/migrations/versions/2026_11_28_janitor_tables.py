"""The janitor's tables: user_activity, deletions (one pending deletion per user), outbox,
processed_events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codeflow_messaging.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision: str = "4b4d4ffd5001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "deletions",
        sa.Column("deletion_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("auth_acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("profiles_acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("repositories_acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("reason IN ('inactive', 'requested')", name=op.f("ck_deletions_reason")),
        sa.CheckConstraint("attempts >= 1", name=op.f("ck_deletions_attempts")),
        sa.PrimaryKeyConstraint("deletion_id", name=op.f("pk_deletions")),
    )
    op.create_index(
        "ix_deletions_pending_last_sent_at",
        "deletions",
        ["last_sent_at"],
        unique=False,
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.create_index("ix_deletions_requested_at", "deletions", ["requested_at"], unique=False)
    op.create_index("ix_deletions_user_id", "deletions", ["user_id"], unique=False)
    op.create_index(
        "ux_deletions_pending_user",
        "deletions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    create_outbox_and_inbox()
    op.create_table(
        "user_activity",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_activity")),
    )
    op.create_index(
        "ix_user_activity_last_active_at", "user_activity", ["last_active_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_user_activity_last_active_at", table_name="user_activity")
    op.drop_table("user_activity")
    drop_outbox_and_inbox()
    op.drop_index(
        "ux_deletions_pending_user",
        table_name="deletions",
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.drop_index("ix_deletions_user_id", table_name="deletions")
    op.drop_index("ix_deletions_requested_at", table_name="deletions")
    op.drop_index(
        "ix_deletions_pending_last_sent_at",
        table_name="deletions",
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.drop_table("deletions")
