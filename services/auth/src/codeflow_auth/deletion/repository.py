"""SQL for carrying out erasures in auth's tables. Functions only flush; the consumer owns
the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.models import Account, Session, User, VerificationToken


async def lock_users(session: AsyncSession, user_ids: Collection[str]) -> dict[str, str | None]:
    """Lock the users' rows (in id order, so two runs can't deadlock); their emails by id.

    A session check that would record activity waits for the lock, so it either landed
    before the decision (and counts) or finds the user gone.
    """
    rows = await session.execute(
        select(User.id, User.email)
        .where(User.id.in_(sorted(user_ids)))
        .order_by(User.id)
        .with_for_update()
    )
    return {row.id: row.email for row in rows}


async def last_seen_of_those_who_can_return(
    session: AsyncSession, users: Collection[str]
) -> dict[str, datetime | None]:
    """For each user who still has a GitHub account (and so could sign in again), the latest
    moment auth saw them: recorded activity, or the sign-in that opened a session (for a
    user with no record); ``None`` if neither. A session's use is recorded activity already,
    and its expiry no measure of it (ADR 0016).

    One who asked to leave had their account unlinked at once (``DELETE /auth/me``) and is
    left out: whatever activity they show, their erasure goes ahead.
    """
    if not users:
        return {}
    sessions_seen = (
        select(Session.user_id, func.max(Session.created_at).label("opened"))
        .where(Session.user_id.in_(users))
        .group_by(Session.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(User.id, User.last_active_at, sessions_seen.c.opened)
        .outerjoin(sessions_seen, sessions_seen.c.user_id == User.id)
        .where(User.id.in_(users), exists().where(Account.user_id == User.id))
    )
    seen: dict[str, datetime | None] = {}
    for user_id, last_active_at, opened in rows:
        moments = [m for m in (last_active_at, opened) if m is not None]
        seen[user_id] = max(moments) if moments else None
    return seen


async def delete_users(session: AsyncSession, users: dict[str, str | None]) -> int:
    """Delete the users (accounts and sessions cascade) and their emails' verification
    tokens, one statement each; how many tokens went."""
    await session.execute(delete(User).where(User.id.in_(users)))
    addresses = [email for email in users.values() if email]
    if not addresses:
        return 0
    used = await session.execute(
        delete(VerificationToken)
        .where(VerificationToken.identifier.in_(addresses))
        .returning(VerificationToken.token)
    )
    return len(used.all())
