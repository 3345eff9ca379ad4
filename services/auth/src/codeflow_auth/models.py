"""The Auth.js tables: users, their GitHub accounts, sessions and verification tokens.

Names and types follow the Prisma schema's PostgreSQL mapping (``String`` → ``text``,
``DateTime`` → ``timestamp(3)``). Rows reference users by id only; deleting a user cascades
to its accounts and sessions in the database, so no relationship has to be loaded for it.
Columns beyond the seed, and what the secret columns hold, are in ADR 0003.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from codeflow_auth.db import Base, UTCTimestamp
from codeflow_auth.ids import new_id

GITHUB_PROVIDER = "github"
"""``accounts.provider`` of the GitHub accounts auth links (the only provider it has)."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text, unique=True)
    email_verified: Mapped[datetime | None] = mapped_column(UTCTimestamp)
    image: Mapped[str | None] = mapped_column(Text)
    # The GitHub login last seen: a different one at sign-in is a rename (UserUpdated).
    login: Mapped[str | None] = mapped_column(Text)
    # When UserActive was last emitted for this user, so it goes out at most once an hour.
    last_active_at: Mapped[datetime | None] = mapped_column(UTCTimestamp)

    def __repr__(self) -> str:
        return f"User(id={self.id!r})"


class Account(Base):
    """A provider account linked to a user; the token columns hold ciphertext."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("provider", "provider_account_id"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    provider_account_id: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[int | None] = mapped_column(Integer)
    token_type: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    id_token: Mapped[str | None] = mapped_column(Text)
    session_state: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"Account(id={self.id!r}, provider={self.provider!r}, user_id={self.user_id!r})"


class Session(Base):
    """A sign-in session; ``session_token`` holds the SHA-256 hex of the cookie's token."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)
    session_token: Mapped[str] = mapped_column(Text, unique=True)
    user_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires: Mapped[datetime] = mapped_column(UTCTimestamp)
    # The sign-in that opened it: the absolute lifetime and the re-authentication window
    # count from here. The default is for rows written by something else (Auth.js itself).
    created_at: Mapped[datetime] = mapped_column(
        UTCTimestamp, server_default=text("(now() AT TIME ZONE 'UTC')")
    )

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, user_id={self.user_id!r})"


class VerificationToken(Base):
    """A one-time token; the table has no primary key, only ``UNIQUE (identifier, token)``."""

    __tablename__ = "verification_tokens"
    __table_args__ = (UniqueConstraint("identifier", "token"),)

    identifier: Mapped[str] = mapped_column(Text)
    token: Mapped[str] = mapped_column(Text)
    expires: Mapped[datetime] = mapped_column(UTCTimestamp)

    # An ORM mapping needs an identity; the table itself keeps the seed's unique constraint.
    __mapper_args__: Mapping[str, Any] = {"primary_key": (identifier, token)}

    def __repr__(self) -> str:
        return f"VerificationToken(identifier={self.identifier!r})"
