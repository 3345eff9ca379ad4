"""Restating users: what auth holds about each, sent again, to rebuild other services'
projections after they missed events.

A consumer group whose position expired under Kafka's retention skipped events it can never
read again (the consumer says so in its log). Auth owns the truth about users, so it sends
one ``UserRestated`` per user it holds, through its outbox, on each user's own partition:
profiles and the janitor apply it like the newest identity and activity they could have had.
Users auth no longer holds (erased) are not restated.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.events import emit
from codeflow_auth.models import Account, User
from codeflow_auth.signin.service import PROVIDER
from codeflow_contracts import UserRestated
from codeflow_messaging import SessionFactory, transaction

logger = logging.getLogger("codeflow.auth.restatement")

CHUNK = 1000
"""Users restated per transaction."""


async def restate_users(
    session: AsyncSession, *, after: str = "", only: Sequence[str] = (), limit: int = CHUNK
) -> list[str]:
    """Queue ``UserRestated`` for up to ``limit`` users in id order after ``after`` (or for
    the users in ``only``); returns their ids. A user without a GitHub account (one who asked
    to leave and awaits erasure) or without a login has nothing to restate."""
    statement = (
        select(User.id, User.login, User.last_active_at, Account.provider_account_id)
        .join(Account, (Account.user_id == User.id) & (Account.provider == PROVIDER))
        .where(User.id > after, User.login.is_not(None))
        .order_by(User.id)
        .limit(limit)
    )
    if only:
        statement = statement.where(User.id.in_(only))
    rows = (await session.execute(statement)).all()
    now = datetime.now(UTC)
    await emit.all(
        session,
        [
            UserRestated(
                user_id=user_id,
                github_id=int(github_id),
                login=login,
                last_active_at=last_active_at,
                restated_at=now,
            )
            for user_id, login, last_active_at, github_id in rows
        ],
    )
    return [row.id for row in rows]


async def restate_all(sessions: SessionFactory, *, only: Sequence[str] = ()) -> int:
    """Restate every user (or those in ``only``), a chunk per transaction; how many."""
    restated, after = 0, ""
    while True:
        async with transaction(sessions) as session:
            chunk = await restate_users(session, after=after, only=only)
        restated += len(chunk)
        if len(chunk) < CHUNK:
            break
        after = chunk[-1]
        logger.info("restated %d user(s) so far", restated)
    logger.info("restated %d user(s); auth's relay publishes them", restated)
    return restated
