"""The profiles tables: ``user_profiles``, and the bookkeeping that keeps it order-proof.

``user_profiles`` follows the seed's ``UserProfile`` (ADR 0004 records where it departs).
``login_claims`` remembers, per GitHub login, the newest user known to have held it, so a
login freed by one user and taken by another ends with the newest holder whatever order the
events arrive in. ``deleted_users`` keeps the ids of users whose data was deleted, so a
replayed ``UserCreated`` can't bring a deleted profile back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Text, Uuid, func, text
from sqlalchemy.orm import Mapped, mapped_column

from codeflow_profiles.db import Base

TIMESTAMPTZ = DateTime(timezone=True)


class UserProfile(Base):
    """Who a signed-in user is on GitHub, and when they were last active."""

    __tablename__ = "user_profiles"

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[str] = mapped_column(Text, unique=True)
    # NULL while a newer user holds this GitHub account (a deleted user's stale row).
    github_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # NULL while another user holds the login this user last had (see login_claims).
    username: Mapped[str | None] = mapped_column(Text, unique=True)
    last_active_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    # When auth stored the identity this row holds: events older than this are not applied.
    identity_updated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())

    def __repr__(self) -> str:
        return f"UserProfile(user_id={self.user_id!r})"


class LoginClaim(Base):
    """The newest user known to have held one GitHub login, and since when."""

    __tablename__ = "login_claims"
    __table_args__ = (Index(None, "user_id"),)

    login: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ)


class DeletedUser(Base):
    """A user whose data this service deleted; later events about them are ignored."""

    __tablename__ = "deleted_users"

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(TIMESTAMPTZ, server_default=func.now())
