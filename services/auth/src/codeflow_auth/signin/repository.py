"""Users and their accounts, as sign-in stores them (the Auth.js adapter's operations).

Every function works inside the caller's transaction and only flushes; the edge commits.
Datetimes go in and come out timezone-aware in UTC (stored to the millisecond). Provider
tokens are stored as given: callers pass their ciphertext (see
:mod:`codeflow_auth.token_cipher`). A write the constraints refuse raises a
:class:`~codeflow_auth.constraints.ConstraintViolation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.constraints import constraints_as_errors
from codeflow_auth.db import utc_millis
from codeflow_auth.models import Account, User

USER_FIELDS = frozenset({"name", "email", "email_verified", "image", "login", "last_active_at"})
ACCOUNT_TOKEN_FIELDS = frozenset(
    {"access_token", "refresh_token", "expires_at", "token_type", "scope", "id_token",
     "session_state"}
)  # fmt: skip
_DATETIME_FIELDS = frozenset({"email_verified", "last_active_at"})


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
    async with constraints_as_errors(s):
        s.add(user)
    return user


async def get_user_by_email(s: AsyncSession, email: str) -> User | None:
    user: User | None = await s.scalar(select(User).where(User.email == email))
    return user


# One account, by provider and the provider's id for it: the parameters of :func:`_account`.
_THE_ACCOUNT = (
    Account.provider == bindparam("of_provider"),
    Account.provider_account_id == bindparam("of_provider_account"),
)


def _account(provider: str, provider_account_id: str) -> dict[str, str]:
    return {"of_provider": provider, "of_provider_account": provider_account_id}


_USER_BY_ACCOUNT = select(User).join(Account, Account.user_id == User.id).where(*_THE_ACCOUNT)
# Built once, as every sign-in asks (ADR 0038).
_USERS_BY_ACCOUNT = {False: _USER_BY_ACCOUNT, True: _USER_BY_ACCOUNT.with_for_update(of=User)}


async def get_user_by_account(
    s: AsyncSession, provider: str, provider_account_id: str, *, lock: bool = False
) -> User | None:
    """The user linked to the account; ``lock``: and hold their row until the transaction
    ends (waiting for whoever holds it, as an erasure does; ``None`` if it erased them)."""
    user: User | None = await s.scalar(
        _USERS_BY_ACCOUNT[lock], _account(provider, provider_account_id)
    )
    return user


async def update_user(s: AsyncSession, user_id: str, **changes: Any) -> User | None:
    """Set the given columns (any of :data:`USER_FIELDS`); ``None`` if there is no such user."""
    unknown = changes.keys() - USER_FIELDS
    if unknown:
        raise ValueError(f"not user fields: {', '.join(sorted(unknown))}")
    user = await s.get(User, user_id)
    if user is None:
        return None
    async with constraints_as_errors(s):
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
    async with constraints_as_errors(s):
        s.add(account)
    return account


# One statement, built once: the SET clause is the token columns each call passes (SQLAlchemy
# compiles, and caches, one form per set of them). Sign-in runs it on every sign-in; through
# the ORM it was a SELECT of the account and a flush of the changed object (ADR 0038).
_UPDATE_ACCOUNT_TOKENS = update(Account).where(*_THE_ACCOUNT).returning(Account.id)


async def update_account_tokens(
    s: AsyncSession, provider: str, provider_account_id: str, **tokens: Any
) -> bool:
    """Set the given token columns (any of :data:`ACCOUNT_TOKEN_FIELDS`, at least one);
    whether the account exists."""
    unknown = tokens.keys() - ACCOUNT_TOKEN_FIELDS
    if unknown:
        raise ValueError(f"not account token fields: {', '.join(sorted(unknown))}")
    if not tokens:
        raise ValueError("no account token fields given")
    connection = await s.connection()
    updated = await connection.execute(
        _UPDATE_ACCOUNT_TOKENS, _account(provider, provider_account_id) | tokens
    )
    return updated.first() is not None
