"""Sessions as auth stores them (the Auth.js adapter's operations), and what ends with them.

Every function works inside the caller's transaction and only flushes; the edge commits.
``session_token`` is stored as given: callers pass the SHA-256 of the token. A write the
constraints refuse raises a :class:`~codeflow_auth.constraints.ConstraintViolation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_auth.constraints import constraints_as_errors
from codeflow_auth.db import utc_millis
from codeflow_auth.models import GITHUB_PROVIDER, Account, Session, User, VerificationToken


async def create_session(
    s: AsyncSession,
    *,
    session_token: str,
    user_id: str,
    expires: datetime,
    created_at: datetime | None = None,
) -> Session:
    """Store a session; ``session_token`` is stored as given, so pass the token's hash.

    ``created_at`` is the sign-in that opens it (the database's clock if not given).
    """
    session = Session(session_token=session_token, user_id=user_id, expires=utc_millis(expires))
    if created_at is not None:
        session.created_at = utc_millis(created_at)
    async with constraints_as_errors(s):
        s.add(session)
    return session


# Built once: every request that brings a session cookie asks it (ADR 0038).
_SESSION_AND_USER = (
    select(Session, User)
    .join(User, User.id == Session.user_id)
    .where(Session.session_token == bindparam("token"))
)


async def get_session_and_user(s: AsyncSession, session_token: str) -> tuple[Session, User] | None:
    """The session and its user, in one query. Expiry is the caller's to check."""
    row = (await s.execute(_SESSION_AND_USER, {"token": session_token})).one_or_none()
    return None if row is None else (row[0], row[1])


class Standing(NamedTuple):
    """What deciding on a session takes, read as plain values: its lifetimes, and who it is."""

    session_id: str
    created_at: datetime
    expires: datetime
    user_id: str
    login: str | None
    last_active_at: datetime | None


# Built once, read on a Core connection: the gateway asks it for every request whose kept
# answer has run out (ADR 0042).
_STANDING = (
    select(
        Session.id,
        Session.created_at,
        Session.expires,
        User.id,
        User.login,
        User.last_active_at,
    )
    .join(User, User.id == Session.user_id)
    .where(Session.session_token == bindparam("token"))
)


async def get_standing(c: AsyncConnection, session_token: str) -> Standing | None:
    """The session's lifetimes and its user, in one query, without loading either object.
    Expiry is the caller's to check."""
    row = (await c.execute(_STANDING, {"token": session_token})).one_or_none()
    return None if row is None else Standing(*row)


async def github_id_of(s: AsyncSession | AsyncConnection, user_id: str) -> int | None:
    """GitHub's numeric id of the account linked to ``user_id``, if one is."""
    found = await s.scalar(
        select(Account.provider_account_id)
        .where(Account.user_id == user_id)
        .where(Account.provider == GITHUB_PROVIDER)
    )
    return int(found) if found is not None and found.isdigit() else None


async def update_session(
    s: AsyncSession, session_token: str, *, expires: datetime
) -> Session | None:
    session: Session | None = await s.scalar(
        select(Session).where(Session.session_token == session_token)
    )
    if session is None:
        return None
    session.expires = utc_millis(expires)
    await s.flush()
    return session


async def delete_session(s: AsyncSession, session_token: str) -> bool:
    deleted = await s.scalar(
        delete(Session).where(Session.session_token == session_token).returning(Session.id)
    )
    return deleted is not None


async def get_sessions_of_user(s: AsyncSession, user_id: str) -> list[Session]:
    """The user's sessions, newest first, expired or not."""
    found = await s.scalars(
        select(Session)
        .where(Session.user_id == user_id)
        .order_by(Session.created_at.desc(), Session.id)
    )
    return list(found.all())


async def delete_session_of_user(s: AsyncSession, user_id: str, session_id: str) -> bool:
    """Delete the session with this id if it is the user's; whether there was one."""
    deleted = await s.scalar(
        delete(Session)
        .where(Session.id == session_id, Session.user_id == user_id)
        .returning(Session.id)
    )
    return deleted is not None


async def delete_sessions_of_user(s: AsyncSession, user_id: str) -> int:
    """Delete every session of the user (sign out everywhere); how many there were."""
    deleted = await s.scalars(
        delete(Session).where(Session.user_id == user_id).returning(Session.id)
    )
    return len(deleted.all())


# Verification tokens


async def delete_verification_tokens_for(s: AsyncSession, identifier: str) -> int:
    deleted = await s.execute(
        delete(VerificationToken)
        .where(VerificationToken.identifier == identifier)
        .returning(VerificationToken.token)
    )
    return len(deleted.all())
