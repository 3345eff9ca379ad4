"""Recording what auth says about users' activity."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_janitor.activity import repository
from codeflow_janitor.db import lock_user
from codeflow_janitor.deletions.repository import is_erased

logger = logging.getLogger("codeflow.janitor.activity")


async def record_activity(session: AsyncSession, user_id: str, seen_at: datetime) -> bool:
    """Note that ``user_id`` was seen at ``seen_at``; ``False`` if the user is erased.

    Activity counts while a deletion waits for auth's decision (auth may cancel it) and after
    a cancellation. Once auth has erased the user (or the deletion completed) their id is
    never tracked again: a returning person gets a new user id from auth, and a late or
    replayed ``UserActive`` can't bring an erased user's row back.
    """
    await lock_user(session, user_id)
    if await is_erased(session, user_id):
        logger.info("ignored activity of user %s: they have been erased", user_id)
        return False
    await repository.upsert_activity(session, user_id, seen_at)
    return True
