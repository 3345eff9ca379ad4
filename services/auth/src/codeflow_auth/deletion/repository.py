"""SQL for carrying out erasures in auth's tables. Functions only flush; the consumer owns
the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Text, any_, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.models import Account, Session, User, VerificationToken
from codeflow_messaging import run_on_connection

# An erasure's statements, built once for any number of users (the saga's batches are up to
# 500): ids written into the SQL as an IN list made a new statement, compiled and prepared
# anew, for every count of users. They run on the session's connection (run_on_connection).
_USERS = bindparam("users", type_=ARRAY(Text))
_LOCK_USERS = (
    select(User.id, User.email).where(User.id == any_(_USERS)).order_by(User.id).with_for_update()
)
_SESSIONS_OPENED = (
    select(Session.user_id, func.max(Session.created_at).label("opened"))
    .where(Session.user_id == any_(_USERS))
    .group_by(Session.user_id)
    .subquery()
)
_LAST_SEEN = (
    select(User.id, User.last_active_at, _SESSIONS_OPENED.c.opened)
    .outerjoin(_SESSIONS_OPENED, _SESSIONS_OPENED.c.user_id == User.id)
    .where(User.id == any_(_USERS), exists().where(Account.user_id == User.id))
)
_DELETE_USERS = delete(User).where(User.id == any_(_USERS))
_DELETE_TOKENS = (
    delete(VerificationToken)
    .where(VerificationToken.identifier == any_(bindparam("addresses", type_=ARRAY(Text))))
    .returning(VerificationToken.token)
)


async def lock_users(session: AsyncSession, user_ids: Collection[str]) -> dict[str, str | None]:
    """Lock the users' rows (in id order, so two runs can't deadlock); their emails by id.

    A session check that would record activity waits for the lock, so it either landed
    before the decision (and counts) or finds the user gone.
    """
    rows = await run_on_connection(session, _LOCK_USERS, users=sorted(user_ids))
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
    rows = await run_on_connection(session, _LAST_SEEN, users=list(users))
    seen: dict[str, datetime | None] = {}
    for row in rows:
        moments = [m for m in (row.last_active_at, row.opened) if m is not None]
        seen[row.id] = max(moments) if moments else None
    return seen


async def delete_users(session: AsyncSession, users: dict[str, str | None]) -> int:
    """Delete the users (accounts and sessions cascade) and their emails' verification
    tokens, one statement each; how many tokens went."""
    await run_on_connection(session, _DELETE_USERS, users=list(users))
    addresses = [email for email in users.values() if email]
    if not addresses:
        return 0
    used = await run_on_connection(session, _DELETE_TOKENS, addresses=addresses)
    return len(used.all())
