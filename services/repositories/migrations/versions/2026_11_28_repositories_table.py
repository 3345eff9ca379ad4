"""The repositories table, outbox and processed_events.

``repositories`` follows the seed with the changes of ADR 0005: ``github_id`` is ``bigint``,
timestamps are ``timestamptz``, uniqueness is per user ``(user_id, github_id)``, and the seed's
``(user_id, is_active)`` index carries the dashboard's sort key ``(full_name, id)``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from codeflow_messaging.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision: str = "fc5208a6324d"
down_revision: str | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "repositories",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("github_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("user_id", "github_id", name=op.f("uq_repositories_user_id_github_id")),
    )
    op.create_index("ix_repositories_full_name", "repositories", ["full_name"], unique=False)
    op.create_index(
        "ix_repositories_user_id_is_active_full_name_id",
        "repositories",
        ["user_id", "is_active", "full_name", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_repositories_user_id_is_active_full_name_id", table_name="repositories")
    op.drop_index("ix_repositories_full_name", table_name="repositories")
    op.drop_table("repositories")
    drop_outbox_and_inbox()
