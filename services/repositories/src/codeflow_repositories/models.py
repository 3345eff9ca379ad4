"""The ``repositories`` table: one row per (user, GitHub repository) the user monitors.

Names follow the seed's Prisma mapping; the differences (``bigint`` GitHub ids, ``timestamptz``,
per-user uniqueness, the dashboard index) are recorded in ADR 0005. ``deleted_users`` keeps
the ids of erased users, so a write racing the erasure is refused (ADR 0009).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from codeflow_repositories.db import Base

DASHBOARD_INDEX = "ix_repositories_user_id_is_active_full_name_id"
"""The seed's ``(user_id, is_active)`` index, extended by the dashboard's sort key."""

GitHubState = Literal["available", "unavailable"]
"""``unavailable``: GitHub answered 404 for the id (deleted, or not visible to the user)."""


class Repository(Base):
    """A GitHub repository one user monitors; ``is_active`` false means switched off."""

    __tablename__ = "repositories"
    __table_args__ = (
        UniqueConstraint("user_id", "github_id"),
        # Equality on (user_id, is_active) then (full_name, id) in order: the dashboard's
        # keyset pages are index range scans with no sort.
        Index(DASHBOARD_INDEX, "user_id", "is_active", "full_name", "id"),
        Index("ix_repositories_full_name", "full_name"),
        # The scheduled refresh takes the rows asked about longest ago (ADR 0023).
        Index("ix_repositories_refreshed_at", "refreshed_at"),
        CheckConstraint("github_state IN ('available', 'unavailable')", name="github_state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )
    github_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    user_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # What GitHub said of the repository when last asked, with the ETag it came with.
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str | None] = mapped_column(Text)
    default_branch: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stargazers_count: Mapped[int | None] = mapped_column(Integer)
    html_url: Mapped[str | None] = mapped_column(Text)
    github_state: Mapped[GitHubState] = mapped_column(Text, server_default=text("'available'"))
    github_etag: Mapped[str | None] = mapped_column(Text)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"Repository(id={self.id!r}, user_id={self.user_id!r}, github_id={self.github_id!r})"


class DeletedUser(Base):
    """A user whose data this service erased; writes for them are refused from then on."""

    __tablename__ = "deleted_users"

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
