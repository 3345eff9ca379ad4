"""deleted_users: the users whose data this service erased, so racing writes are refused."""

from __future__ import annotations

from codeflow_service.erased_users import create_deleted_users, drop_deleted_users

revision: str = "9e4b7c2d1a06"
down_revision: str | None = "c3f2e7a9d403"


def upgrade() -> None:
    create_deleted_users()


def downgrade() -> None:
    drop_deleted_users()
