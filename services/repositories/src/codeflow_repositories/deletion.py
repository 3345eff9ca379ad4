"""Carrying out auth's ``UserDeleted``: the repositories service's share of erasing a user.

Erasures are carried out in sets (a run of them the consumer read together, or one), under
the users' locks: one statement hard-deletes every repository row of every user concerned,
one remembers them as erased (so a write racing the erasure is refused, not kept), and one
more queues an acknowledgement for each.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, UserDataDeleted, UserDeleted
from codeflow_repositories.db import lock_users
from codeflow_repositories.events import emit
from codeflow_repositories.models import DeletedUser, Repository

logger = logging.getLogger("codeflow.repositories.deletion")


async def delete_users_data(
    session: AsyncSession, envelopes: Sequence[Envelope[UserDeleted]]
) -> None:
    """Hard-delete every repository row of each erased user, remember them as erased, and
    acknowledge each erasure with ``UserDataDeleted``, in order, with one statement for the
    rows.

    Unlike ``DELETE /repositories/{id}`` this removes the rows. No per-row events go out:
    they would repeat repository names of a user being erased; the acknowledgement says it
    all. Idempotent: an erasure of a user with no rows is acknowledged all the same.
    """
    commands = [envelope.data for envelope in envelopes]
    users = sorted({c.user_id for c in commands})
    await lock_users(session, users)
    gone = (
        delete(Repository)
        .where(Repository.user_id.in_(users))
        .returning(Repository.user_id)
        .cte("gone")
    )
    counts = await session.execute(select(gone.c.user_id, func.count()).group_by(gone.c.user_id))
    deleted = {user_id: int(count) for user_id, count in counts}
    await session.execute(
        insert(DeletedUser).values([{"user_id": u} for u in users]).on_conflict_do_nothing()
    )
    now = datetime.now(UTC)
    for command in commands:
        logger.info(
            "deletion %s: %d repository row(s) of user %s deleted",
            command.deletion_id,
            deleted.pop(command.user_id, 0),  # a second command for them finds none
            command.user_id,
        )
    await emit.all(
        session,
        [
            UserDataDeleted.acknowledging(command, service="repositories", deleted_at=now)
            for command in commands
        ],
    )
