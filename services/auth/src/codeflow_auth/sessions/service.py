"""Sessions after sign-in: look-up, sliding expiry, activity, sign-out, account deletion."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_auth.errors import ReauthenticationRequired, SessionNotFound
from codeflow_auth.events import emit
from codeflow_auth.models import Account, Session, User
from codeflow_auth.revocation import GrantRevoker
from codeflow_auth.sessions import repository
from codeflow_auth.sessions.lifetimes import SessionPolicy
from codeflow_auth.sessions.repository import Standing
from codeflow_auth.sessions.tokens import stored_form
from codeflow_auth.signin import repository as signin_repository
from codeflow_contracts import UserActive, UserDeletionRequested

logger = logging.getLogger("codeflow.auth.sessions")


@dataclass(frozen=True)
class ActiveSession:
    session: Session
    user: User
    expires: datetime
    refreshed: bool


def _expired(db_session: Session | Standing, policy: SessionPolicy, now: datetime) -> bool:
    return policy.expired(created_at=db_session.created_at, expires=db_session.expires, now=now)


async def find_session(
    session: AsyncSession, token: str | None, policy: SessionPolicy, *, now: datetime | None = None
) -> tuple[Session, User] | None:
    """The live session of ``token`` and its user; one past its idle timeout or its absolute
    lifetime is deleted."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    found = await repository.get_session_and_user(session, stored_form(token))
    if found is None:
        return None
    if _expired(found[0], policy, now):
        await repository.delete_session(session, found[0].session_token)
        logger.info("session of user %s expired; deleted it", found[1].id)
        return None
    return found


async def peek_session(connection: AsyncConnection, token: str | None) -> Standing | None:
    """The session of ``token`` as stored, expired or not, as plain values; writes nothing."""
    if not token:
        return None
    return await repository.get_standing(connection, stored_form(token))


def _slide_due(db_session: Session | Standing, policy: SessionPolicy, now: datetime) -> bool:
    return policy.slide_due(created_at=db_session.created_at, expires=db_session.expires, now=now)


def _activity_due(last_active_at: datetime | None, policy: SessionPolicy, now: datetime) -> bool:
    return last_active_at is None or last_active_at <= now - policy.activity_interval


def writes_due(found: Standing, policy: SessionPolicy, now: datetime) -> bool:
    """Whether :func:`use_session` would write for this session now (delete it as expired,
    slide its expiry, or record activity). Most requests write nothing."""
    return (
        _expired(found, policy, now)
        or _slide_due(found, policy, now)
        or _activity_due(found.last_active_at, policy, now)
    )


async def use_session(
    session: AsyncSession, token: str | None, policy: SessionPolicy, *, now: datetime | None = None
) -> ActiveSession | None:
    """A request made with ``token``: slide its expiry and record the user's activity.

    The expiry moves to the idle timeout from now, never past the session's absolute
    lifetime, and is written at most once per ``update_age`` (as Auth.js does; see
    :class:`SessionPolicy`). ``UserActive`` is emitted at most once per
    ``activity_interval`` per user, whatever the number of requests or replicas: the
    conditional update decides which request emits.
    """
    now = now or datetime.now(UTC)
    found = await find_session(session, token, policy, now=now)
    if found is None:
        return None
    db_session, user = found
    expires = policy.expires_at(created_at=db_session.created_at, expires=db_session.expires)
    refreshed = False
    if _slide_due(db_session, policy, now):
        expires = policy.expiry(created_at=db_session.created_at, used_at=now)
        await repository.update_session(session, db_session.session_token, expires=expires)
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


async def list_sessions(
    session: AsyncSession, user_id: str, policy: SessionPolicy, *, now: datetime | None = None
) -> list[tuple[Session, datetime]]:
    """The user's live sessions, newest first, each with when it ends."""
    now = now or datetime.now(UTC)
    return [
        (row, policy.expires_at(created_at=row.created_at, expires=row.expires))
        for row in await repository.get_sessions_of_user(session, user_id)
        if not _expired(row, policy, now)
    ]


async def end_session(session: AsyncSession, user_id: str, session_id: str) -> None:
    """End one of the user's sessions; :class:`SessionNotFound` if they have none with this id
    (another person's session is not theirs to know of: the same answer)."""
    if not await repository.delete_session_of_user(session, user_id, session_id):
        raise SessionNotFound("you have no session with this id; GET /auth/sessions lists yours")
    logger.info("user %s ended session %s", user_id, session_id)


async def sign_out(session: AsyncSession, token: str) -> bool:
    return await repository.delete_session(session, stored_form(token))


async def sign_out_everywhere(session: AsyncSession, user_id: str) -> int:
    count = await repository.delete_sessions_of_user(session, user_id)
    logger.info("signed user %s out of %d session(s)", user_id, count)
    return count


async def request_deletion(
    session: AsyncSession,
    user: User,
    *,
    signed_in_at: datetime,
    policy: SessionPolicy,
    revoker: GrantRevoker | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """The user asked to delete their account: end it here now, and tell the janitor.

    Only from a session opened (``signed_in_at``) within ``policy.reauth_window``: otherwise
    :class:`ReauthenticationRequired`, and nothing changes. Every session ends and the GitHub
    account is unlinked at once, and what identifies the person (email, login, name, avatar)
    is cleared, so the row that waits for the janitor's ``DeleteUserData`` is a bare
    tombstone. Signing in again meanwhile creates a fresh user.
    ``revoker``: the account's GitHub grant is revoked once the transaction commits.

    Returns the deletion's id, which the janitor records it under: random, so that the
    person, who has no session left, can follow the erasure by it and nobody can guess it.
    """
    now = now or datetime.now(UTC)
    if not policy.signed_in_recently(created_at=signed_in_at, now=now):
        raise ReauthenticationRequired("Deleting your account", policy.reauth_window)
    await repository.delete_sessions_of_user(session, user.id)
    if user.email:
        await repository.delete_verification_tokens_for(session, user.email)
    if revoker is not None:
        await revoker.revoke_after_commit(session, [user.id])
    await session.execute(delete(Account).where(Account.user_id == user.id))
    await signin_repository.update_user(
        session, user.id, email=None, login=None, name=None, image=None
    )
    deletion_id = uuid.uuid4()
    await emit(
        session,
        UserDeletionRequested(user_id=user.id, requested_at=now, deletion_id=deletion_id),
    )
    logger.info("user %s requested the deletion of their account (%s)", user.id, deletion_id)
    return deletion_id
