"""The janitor's tables: the ``user_activity`` projection and the ``deletions`` ledger.

Neither holds anything personal beyond the auth user id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from codeflow_contracts.deletions import DataHoldingService, DeletionReason
from codeflow_janitor.db import Base

SERVICES: tuple[DataHoldingService, ...] = get_args(DataHoldingService)
"""The services whose acknowledgement completes a deletion."""

DeletionStatus = Literal["pending", "complete", "cancelled", "overdue"]


class UserActivity(Base):
    """When each known user was first seen and last active; both only move outwards."""

    __tablename__ = "user_activity"

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_active_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_user_activity_last_active_at", "last_active_at"),)


PENDING = "completed_at IS NULL AND cancelled_at IS NULL"
"""A deletion neither complete nor cancelled, in SQL."""


class Deletion(Base):
    """One user's deletion: why, when, which services acknowledged it, and how it ended:
    complete, or cancelled by auth because the person was active after the cutoff."""

    __tablename__ = "deletions"

    deletion_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    reason: Mapped[DeletionReason] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # For a deletion for inactivity: the sweep's cutoff, which auth judges activity against.
    inactive_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The command's envelope id: every re-send is that same message, so an inbox that
    # handled it drops the copy. NULL for deletions recorded before it was kept.
    command_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The id auth gave a person who asked to leave while this deletion of them was already
    # in flight: it carries out their request, and they follow its progress by that id.
    requested_as: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    auth_acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    profiles_acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    repositories_acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation: Mapped[str | None] = mapped_column(Text)
    last_sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("reason IN ('inactive', 'requested')", name="reason"),
        CheckConstraint("attempts >= 1", name="attempts"),
        CheckConstraint("completed_at IS NULL OR cancelled_at IS NULL", name="one_ending"),
        # At most one deletion in flight per user; ended ones stay as the record.
        Index(
            "ux_deletions_pending_user",
            "user_id",
            unique=True,
            postgresql_where=text(PENDING),
        ),
        Index("ix_deletions_user_id", "user_id"),
        Index(
            "ix_deletions_pending_last_sent_at",
            "last_sent_at",
            postgresql_where=text(PENDING),
        ),
        Index("ix_deletions_requested_at", "requested_at"),
        Index("ux_deletions_requested_as", "requested_as", unique=True),
    )

    def acked_at(self, service: DataHoldingService) -> datetime | None:
        """When ``service`` acknowledged this deletion, if it has."""
        acked: datetime | None = getattr(self, f"{service}_acked_at")
        return acked

    @property
    def unacknowledged(self) -> tuple[DataHoldingService, ...]:
        """The services that have not acknowledged yet."""
        return tuple(s for s in SERVICES if self.acked_at(s) is None)

    def status(self, *, overdue_before: datetime) -> DeletionStatus:
        """``complete`` or ``cancelled``; ``overdue`` if requested before ``overdue_before``;
        else ``pending``."""
        if self.completed_at is not None:
            return "complete"
        if self.cancelled_at is not None:
            return "cancelled"
        return "overdue" if self.requested_at < overdue_before else "pending"
