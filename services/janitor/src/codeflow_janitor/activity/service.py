"""Recording what auth says about users' activity."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_janitor.activity import repository
from codeflow_janitor.db import lock_user
from codeflow_janitor.deletions.repository import has_any_deletion

logger = logging.getLogger("codeflow.janitor.activity")


async def record_activity(session: AsyncSession, user_id: str, seen_at: datetime) -> bool:
    """Note that ``user_id`` was seen at ``seen_at``; ``False`` if the user is being deleted.

    A user id with a deletion (in flight or complete) is never tracked again: the deletion
    goes ahead, and a returning person gets a new user id from auth. So a late or replayed
    ``UserActive`` can't bring a deleted user's row back.
    """
    await lock_user(session, user_id)
    if await has_any_deletion(session, user_id):
        logger.info("ignored activity of user %s: a deletion exists for them", user_id)
        return False
    await repository.upsert_activity(session, user_id, seen_at)
    return True
