"""Carrying out ``DeleteUserData``: the repositories service's share of erasing a user.

Commands are carried out in sets (a run of them the consumer read together, or one): one
statement hard-deletes every repository row of every user concerned, and one more queues an
acknowledgement for each command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import DeleteUserData, Envelope, UserDataDeleted
from codeflow_repositories.events import emit
from codeflow_repositories.models import Repository

logger = logging.getLogger("codeflow.repositories.deletion")


async def delete_user_data(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Hard-delete every repository row of the user, then acknowledge with ``UserDataDeleted``.

    Unlike ``DELETE /repositories/{id}`` this removes the rows. No per-row events go out:
    they would repeat repository names of a user being erased; the acknowledgement says it
    all. Idempotent: a command for a user with no rows is acknowledged all the same, so a
    re-sent command completes the saga.
    """
    await delete_users_data(session, [envelope])


async def delete_users_data(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """:func:`delete_user_data` for each command, in order, with one statement for the rows."""
    commands: list[DeleteUserData] = [envelope.data for envelope in envelopes]
    gone = (
        delete(Repository)
        .where(Repository.user_id.in_({c.user_id for c in commands}))
        .returning(Repository.user_id)
        .cte("gone")
    )
    counts = await session.execute(select(gone.c.user_id, func.count()).group_by(gone.c.user_id))
    deleted = {user_id: int(count) for user_id, count in counts}
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
