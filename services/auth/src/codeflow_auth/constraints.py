"""The auth tables' constraints as domain errors, for the repositories of sign-in and sessions.

A write that would break a unique constraint, or point at a user who doesn't exist, raises a
:class:`ConstraintViolation` and leaves the caller's transaction usable (it runs in a
savepoint).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


class ConstraintViolation(Exception):
    """A write the auth tables' constraints refuse."""


class EmailAlreadyUsed(ConstraintViolation):
    """Another user already has this email address."""


class AccountAlreadyLinked(ConstraintViolation):
    """This provider account is already linked to a user."""


class SessionTokenTaken(ConstraintViolation):
    """A session with this token already exists."""


class UserNotFound(ConstraintViolation):
    """The user a new account or session should belong to doesn't exist."""


_CONSTRAINT_ERRORS: dict[str, type[ConstraintViolation]] = {
    "uq_users_email": EmailAlreadyUsed,
    "uq_accounts_provider_provider_account_id": AccountAlreadyLinked,
    "uq_sessions_session_token": SessionTokenTaken,
    "fk_accounts_user_id_users": UserNotFound,
    "fk_sessions_user_id_users": UserNotFound,
}


@asynccontextmanager
async def constraints_as_errors(s: AsyncSession) -> AsyncIterator[None]:
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
