"""deleted_users: the users whose data this service erased, so racing writes are refused.

Revision ID: 9e4b7c2d1a06
Revises: c3f2e7a9d403
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4b7c2d1a06"
down_revision: str | None = "c3f2e7a9d403"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_users",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column(
            "deleted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_deleted_users")),
    )


def downgrade() -> None:
    op.drop_table("deleted_users")
