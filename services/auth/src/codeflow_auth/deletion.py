"""Carrying out ``DeleteUserData``: auth's share of erasing a user."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth import adapter
from codeflow_auth.events import emit
from codeflow_contracts import DeleteUserData, Envelope, UserDataDeleted

logger = logging.getLogger("codeflow.auth.deletion")


async def delete_user_data(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Delete the user (accounts and sessions cascade) and their email's verification tokens.

    Idempotent: a user already gone is acknowledged all the same, so a re-sent command
    completes the saga.
    """
    command: DeleteUserData = envelope.data
    user = await adapter.get_user(session, command.user_id)
    tokens = 0
    if user is not None:
        if user.email:
            tokens = await adapter.delete_verification_tokens_for(session, user.email)
        await adapter.delete_user(session, user.id)
    logger.info(
        "deletion %s: %s user %s (%d verification token(s))",
        command.deletion_id,
        "deleted" if user is not None else "already no",
        command.user_id,
        tokens,
    )
    await emit(
        session,
        UserDataDeleted(
            deletion_id=command.deletion_id,
            user_id=command.user_id,
            service="auth",
            deleted_at=datetime.now(UTC),
        ),
    )
