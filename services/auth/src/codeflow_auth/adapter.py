"""The Auth.js database adapter's operations, as the auth service's repository layer.

Every function works inside the caller's transaction and only flushes; the edge commits.
Datetimes go in and come out timezone-aware in UTC (stored to the millisecond). Values are
stored as given: callers pass the SHA-256 of a session token and the ciphertext of provider
tokens (see :mod:`codeflow_auth.token_cipher`). A write that would break a unique constraint
raises an :class:`AdapterError` and leaves the caller's transaction usable (it runs in a
savepoint).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.db import utc_millis
from codeflow_auth.models import GITHUB_PROVIDER, Account, Session, User, VerificationToken

USER_FIELDS = frozenset({"name", "email", "email_verified", "image", "login", "last_active_at"})
ACCOUNT_TOKEN_FIELDS = frozenset(
    {"access_token", "refresh_token", "expires_at", "token_type", "scope", "id_token",
     "session_state"}
)  # fmt: skip
_DATETIME_FIELDS = frozenset({"email_verified", "last_active_at"})


class AdapterError(Exception):
    """A write the auth tables' constraints refuse."""


class EmailAlreadyUsed(AdapterError):
    """Another user already has this email address."""


class AccountAlreadyLinked(AdapterError):
    """This provider account is already linked to a user."""


class SessionTokenTaken(AdapterError):
    """A session with this token already exists."""


class UserNotFound(AdapterError):
    """The user a new account or session should belong to doesn't exist."""


_CONSTRAINT_ERRORS: dict[str, type[AdapterError]] = {
    "uq_users_email": EmailAlreadyUsed,
    "uq_accounts_provider_provider_account_id": AccountAlreadyLinked,
    "uq_sessions_session_token": SessionTokenTaken,
    "fk_accounts_user_id_users": UserNotFound,
    "fk_sessions_user_id_users": UserNotFound,
}


@asynccontextmanager
async def _constraints_as_errors(s: AsyncSession) -> AsyncIterator[None]:
    """Flush the block's writes in a savepoint; a known constraint violation is a domain error."""
    try:
        async with s.begin_nested():
            yield
    except IntegrityError as error:
        constraint = getattr(error.orig.__cause__, "constraint_name", None) if error.orig else None
        domain_error = _CONSTRAINT_ERRORS.get(constraint or "")
        if domain_error is None:
            raise
        raise domain_error(constraint) from error


def _optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc_millis(value)


# Users


async def create_user(
    s: AsyncSession,
    *,
    name: str | None,
    email: str | None,
    email_verified: datetime | None,
    image: str | None,
    login: str | None = None,
) -> User:
    user = User(
        name=name,
        email=email,
        email_verified=_optional_utc(email_verified),
        image=image,
        login=login,
    )
    async with _constraints_as_errors(s):
        s.add(user)
    return user


async def get_user_by_email(s: AsyncSession, email: str) -> User | None:
    user: User | None = await s.scalar(select(User).where(User.email == email))
    return user


async def get_user_by_account(
    s: AsyncSession, provider: str, provider_account_id: str, *, lock: bool = False
) -> User | None:
    """The user linked to the account; ``lock``: and hold their row until the transaction
    ends (waiting for whoever holds it, as an erasure does; ``None`` if it erased them)."""
    query = (
        select(User)
        .join(Account, Account.user_id == User.id)
        .where(Account.provider == provider, Account.provider_account_id == provider_account_id)
    )
    if lock:
        query = query.with_for_update(of=User)
    user: User | None = await s.scalar(query)
    return user


async def update_user(s: AsyncSession, user_id: str, **changes: Any) -> User | None:
    """Set the given columns (any of :data:`USER_FIELDS`); ``None`` if there is no such user."""
    unknown = changes.keys() - USER_FIELDS
    if unknown:
        raise ValueError(f"not user fields: {', '.join(sorted(unknown))}")
    user = await s.get(User, user_id)
    if user is None:
        return None
    async with _constraints_as_errors(s):
        for field, value in changes.items():
            setattr(user, field, _optional_utc(value) if field in _DATETIME_FIELDS else value)
    return user


# Accounts


async def link_account(
    s: AsyncSession,
    *,
    user_id: str,
    type: str,
    provider: str,
    provider_account_id: str,
    access_token: str | None = None,
    refresh_token: str | None = None,
    expires_at: int | None = None,
    token_type: str | None = None,
    scope: str | None = None,
    id_token: str | None = None,
    session_state: str | None = None,
) -> Account:
    account = Account(
        user_id=user_id,
        type=type,
        provider=provider,
        provider_account_id=provider_account_id,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=expires_at,
        token_type=token_type,
        scope=scope,
        id_token=id_token,
        session_state=session_state,
    )
    async with _constraints_as_errors(s):
        s.add(account)
    return account


async def _find_account(s: AsyncSession, provider: str, provider_account_id: str) -> Account | None:
    account: Account | None = await s.scalar(
        select(Account).where(
            Account.provider == provider, Account.provider_account_id == provider_account_id
        )
    )
    return account


async def update_account_tokens(
    s: AsyncSession, provider: str, provider_account_id: str, **tokens: Any
) -> Account | None:
    """Set the given token columns (any of :data:`ACCOUNT_TOKEN_FIELDS`)."""
    unknown = tokens.keys() - ACCOUNT_TOKEN_FIELDS
    if unknown:
        raise ValueError(f"not account token fields: {', '.join(sorted(unknown))}")
    account = await _find_account(s, provider, provider_account_id)
    if account is None:
        return None
    for field, value in tokens.items():
        setattr(account, field, value)
    await s.flush()
    return account


# Sessions


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
    async with _constraints_as_errors(s):
        s.add(session)
    return session


async def get_session_and_user(s: AsyncSession, session_token: str) -> tuple[Session, User] | None:
    """The session and its user, in one query. Expiry is the caller's to check."""
    row = (
        await s.execute(
            select(Session, User)
            .join(User, User.id == Session.user_id)
            .where(Session.session_token == session_token)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def github_id_of(s: AsyncSession, user_id: str) -> int | None:
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
