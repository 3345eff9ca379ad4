"""Carrying out ``DeleteUserData``: auth's share of erasing a user.

Commands are carried out in sets (a run of them the consumer read together, or one): one
statement deletes every user (their accounts and sessions cascade), one more their emails'
verification tokens, and one queues an acknowledgement for each command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.events import emit
from codeflow_auth.models import User, VerificationToken
from codeflow_contracts import DeleteUserData, Envelope, UserDataDeleted

logger = logging.getLogger("codeflow.auth.deletion")


async def delete_user_data(session: AsyncSession, envelope: Envelope[Any]) -> None:
    """Delete the user (accounts and sessions cascade) and their email's verification tokens.

    Idempotent: a user already gone is acknowledged all the same, so a re-sent command
    completes the saga.
    """
    await delete_users_data(session, [envelope])


async def delete_users_data(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """:func:`delete_user_data` for each command, in order, with one statement per table."""
    commands: list[DeleteUserData] = [envelope.data for envelope in envelopes]
    gone = await session.execute(
        delete(User)
        .where(User.id.in_({c.user_id for c in commands}))
        .returning(User.id, User.email)
    )
    emails = {row.id: row.email for row in gone}
    tokens = 0
    if addresses := [email for email in emails.values() if email]:
        used = await session.execute(
            delete(VerificationToken)
            .where(VerificationToken.identifier.in_(addresses))
            .returning(VerificationToken.token)
        )
        tokens = len(used.all())
    now = datetime.now(UTC)
    deleted_now = set(emails)
    for command in commands:
        deleted = command.user_id in deleted_now
        deleted_now.discard(command.user_id)  # a second command for them finds no user
        logger.info(
            "deletion %s: %s user %s",
            command.deletion_id,
            "deleted" if deleted else "already no",
            command.user_id,
        )
    await emit.all(
        session,
        [
            UserDataDeleted.acknowledging(command, service="auth", deleted_at=now)
            for command in commands
        ],
    )
    if tokens:
        logger.info("deleted %d verification token(s) of %d user(s)", tokens, len(commands))
