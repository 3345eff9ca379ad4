"""The profiles tables: user_profiles, login_claims, deleted_users, outbox, processed_events.

Timestamps are ``timestamptz`` and ``username`` and ``github_id`` may be NULL (ADR 0004).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codeflow_messaging.migrations import create_outbox_and_inbox, drop_outbox_and_inbox
from codeflow_service.erased_users import create_deleted_users, drop_deleted_users

revision: str = "7c1e2b9a4d05"
down_revision: str | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    create_deleted_users()
    op.create_table(
        "login_claims",
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_login_claims")),
    )
    op.create_index(op.f("ix_login_claims_user_id"), "login_claims", ["user_id"], unique=False)
    create_outbox_and_inbox()
    op.create_table(
        "user_profiles",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("github_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("last_active_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("identity_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_profiles")),
        sa.UniqueConstraint("github_id", name=op.f("uq_user_profiles_github_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_profiles_user_id")),
        sa.UniqueConstraint("username", name=op.f("uq_user_profiles_username")),
    )


def downgrade() -> None:
    op.drop_table("user_profiles")
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_login_claims_user_id"), table_name="login_claims")
    op.drop_table("login_claims")
    drop_deleted_users()
