"""deleted_users: the users whose data this service erased, so racing writes are refused."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "9e4b7c2d1a06"
down_revision: str | None = "c3f2e7a9d403"

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "deleted_users",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_deleted_users")),
    )


def downgrade() -> None:
    op.drop_table("deleted_users")
