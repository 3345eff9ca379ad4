"""Sessions after sign-in: look-up, sliding expiry, activity, sign-out, account deletion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth import adapter
from codeflow_auth.events import emit
from codeflow_auth.models import Account, Session, User
from codeflow_auth.revocation import GrantRevoker
from codeflow_auth.sessions.tokens import stored_form
from codeflow_contracts import UserActive, UserDeletionRequested

logger = logging.getLogger("codeflow.auth.sessions")


@dataclass(frozen=True)
class SessionPolicy:
    max_age: timedelta
    update_age: timedelta
    activity_interval: timedelta


@dataclass(frozen=True)
class ActiveSession:
    session: Session
    user: User
    expires: datetime
    refreshed: bool


async def find_session(
    session: AsyncSession, token: str | None, *, now: datetime | None = None
) -> tuple[Session, User] | None:
    """The live session of ``token`` and its user; an expired one is deleted."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    found = await adapter.get_session_and_user(session, stored_form(token))
    if found is None:
        return None
    if found[0].expires <= now:
        await adapter.delete_session(session, found[0].session_token)
        logger.info("session of user %s expired; deleted it", found[1].id)
        return None
    return found


async def peek_session(session: AsyncSession, token: str | None) -> tuple[Session, User] | None:
    """The session of ``token`` and its user as stored, expired or not; writes nothing."""
    if not token:
        return None
    return await adapter.get_session_and_user(session, stored_form(token))


def _expiry_due(expires: datetime, policy: SessionPolicy, now: datetime) -> bool:
    return expires - policy.max_age + policy.update_age <= now


def _activity_due(last_active_at: datetime | None, policy: SessionPolicy, now: datetime) -> bool:
    return last_active_at is None or last_active_at <= now - policy.activity_interval


def writes_due(found: tuple[Session, User], policy: SessionPolicy, now: datetime) -> bool:
    """Whether :func:`use_session` would write for this session now (delete it as expired,
    slide its expiry, or record activity). Most requests write nothing."""
    db_session, user = found
    return (
        db_session.expires <= now
        or _expiry_due(db_session.expires, policy, now)
        or _activity_due(user.last_active_at, policy, now)
    )


async def use_session(
    session: AsyncSession, token: str | None, policy: SessionPolicy, *, now: datetime | None = None
) -> ActiveSession | None:
    """A request made with ``token``: slide its expiry and record the user's activity.

    The expiry is written at most once per ``update_age`` (as Auth.js does), and
    ``UserActive`` emitted at most once per ``activity_interval`` per user, whatever the
    number of requests or replicas: the conditional update decides which request emits.
    """
    now = now or datetime.now(UTC)
    found = await find_session(session, token, now=now)
    if found is None:
        return None
    db_session, user = found
    expires = db_session.expires
    refreshed = False
    if _expiry_due(expires, policy, now):
        expires = now + policy.max_age
        await adapter.update_session(session, db_session.session_token, expires=expires)
        refreshed = True
    if _activity_due(user.last_active_at, policy, now):
        # Most requests stop at the check above, with no write; the conditional update
        # still decides between concurrent requests (and replicas) which one emits.
        await record_activity(session, user.id, policy.activity_interval, now=now)
    return ActiveSession(db_session, user, expires, refreshed)


async def record_activity(
    session: AsyncSession, user_id: str, interval: timedelta, *, now: datetime
) -> bool:
    """Emit ``UserActive`` unless one was emitted for this user within ``interval``."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id)
        .where(or_(User.last_active_at.is_(None), User.last_active_at <= now - interval))
        .values(last_active_at=now)
        .returning(User.id)
    )
    if result.scalar_one_or_none() is None:
        return False
    await emit(session, UserActive(user_id=user_id, active_at=now))
    return True


async def sign_out(session: AsyncSession, token: str) -> bool:
    return await adapter.delete_session(session, stored_form(token))


async def sign_out_everywhere(session: AsyncSession, user_id: str) -> int:
    count = await adapter.delete_sessions_of_user(session, user_id)
    logger.info("signed user %s out of %d session(s)", user_id, count)
    return count


async def request_deletion(
    session: AsyncSession,
    user: User,
    *,
    revoker: GrantRevoker | None = None,
    now: datetime | None = None,
) -> None:
    """The user asked to delete their account: end it here now, and tell the janitor.

    Every session ends and the GitHub account is unlinked at once, and what identifies the
    person (email, login, name, avatar) is cleared, so the row that waits for the janitor's
    ``DeleteUserData`` is a bare tombstone. Signing in again meanwhile creates a fresh user.
    ``revoker``: the account's GitHub grant is revoked once the transaction commits.
    """
    now = now or datetime.now(UTC)
    await adapter.delete_sessions_of_user(session, user.id)
    if user.email:
        await adapter.delete_verification_tokens_for(session, user.email)
    if revoker is not None:
        await revoker.revoke_after_commit(session, [user.id])
    await session.execute(delete(Account).where(Account.user_id == user.id))
    await adapter.update_user(session, user.id, email=None, login=None, name=None, image=None)
    await emit(session, UserDeletionRequested(user_id=user.id, requested_at=now))
    logger.info("user %s requested the deletion of their account", user.id)
