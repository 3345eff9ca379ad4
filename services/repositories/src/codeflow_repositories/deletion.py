"""Carrying out ``DeleteUserData``: the repositories service's share of erasing a user."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import DeleteUserData, Envelope, UserDataDeleted
from codeflow_repositories.events import emit
from codeflow_repositories.repositories import repository

logger = logging.getLogger("codeflow.repositories.deletion")


async def delete_user_data(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Hard-delete every repository row of the user, then acknowledge with ``UserDataDeleted``.

    Unlike ``DELETE /repositories/{id}`` this removes the rows. No per-row events go out:
    they would repeat repository names of a user being erased; the acknowledgement says it
    all. Idempotent: a command for a user with no rows is acknowledged all the same, so a
    re-sent command completes the saga.
    """
    command: DeleteUserData = envelope.data
    deleted = await repository.delete_all_of(session, command.user_id)
    logger.info(
        "deletion %s: %d repository row(s) of user %s deleted",
        command.deletion_id,
        deleted,
        command.user_id,
    )
    await emit(
        session,
        UserDataDeleted(
            deletion_id=command.deletion_id,
            user_id=command.user_id,
            service="repositories",
            deleted_at=datetime.now(UTC),
        ),
    )
