"""Migration operations for ``deleted_users``: the users whose data a service erased.

Profiles and repositories each keep one, alike, so that a message or a request about a user
that arrives after the erasure changes nothing. Their revisions call these operations; a
later change to the table is a new operation here, called by a new revision in each.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

DELETED_USERS = "deleted_users"
NOW = sa.text("now()")


def create_deleted_users() -> None:
    """Create ``deleted_users`` as it was first: the user id (its key) and when."""
    op.create_table(
        DELETED_USERS,
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_deleted_users")),
    )


def drop_deleted_users() -> None:
    """Undo :func:`create_deleted_users`."""
    op.drop_table(DELETED_USERS)
