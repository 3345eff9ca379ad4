"""What GitHub says about each monitored repository, and when it was last asked (ADR 0023).

Rows monitored before this revision keep the names their client sent; ``refreshed_at`` is
null for them, so the scheduled refresh asks GitHub about them first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "5d1a8c3e7b20"
down_revision: str | None = "9e4b7c2d1a06"

REFRESH_INDEX = "ix_repositories_refreshed_at"


def upgrade() -> None:
    op.add_column("repositories", sa.Column("description", sa.Text(), nullable=True))
    op.add_column("repositories", sa.Column("visibility", sa.Text(), nullable=True))
    op.add_column("repositories", sa.Column("default_branch", sa.Text(), nullable=True))
    op.add_column("repositories", sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("repositories", sa.Column("stargazers_count", sa.Integer(), nullable=True))
    op.add_column("repositories", sa.Column("html_url", sa.Text(), nullable=True))
    op.add_column(
        "repositories",
        sa.Column("github_state", sa.Text(), server_default=sa.text("'available'"), nullable=False),
    )
    op.create_check_constraint(
        "github_state", "repositories", "github_state IN ('available', 'unavailable')"
    )
    op.add_column("repositories", sa.Column("github_etag", sa.Text(), nullable=True))
    op.add_column(
        "repositories", sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(REFRESH_INDEX, "repositories", ["refreshed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(REFRESH_INDEX, table_name="repositories")
    for column in (
        "refreshed_at",
        "github_etag",
        "github_state",
        "html_url",
        "stargazers_count",
        "default_branch",
        "pushed_at",
        "visibility",
        "description",
    ):
        op.drop_column("repositories", column)
