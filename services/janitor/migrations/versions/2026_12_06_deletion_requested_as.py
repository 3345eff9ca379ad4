"""deletions.requested_as: the id a person's own request was given, when it found a
deletion of them already in flight; they follow that deletion's progress by it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "9c41e7b2d5a3"
down_revision: str | None = "6a2f9d4c8e17"


def upgrade() -> None:
    op.add_column("deletions", sa.Column("requested_as", sa.Uuid()))
    op.create_index("ux_deletions_requested_as", "deletions", ["requested_as"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_deletions_requested_as", table_name="deletions")
    op.drop_column("deletions", "requested_as")
