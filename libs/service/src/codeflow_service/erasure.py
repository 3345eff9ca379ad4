"""How a service holding user data carries out an erasure: delete, then acknowledge.

Profiles and repositories erase a user the same way when auth's ``UserDeleted`` reaches
them: under the users' locks, one statement deletes what each user had, and every command is
acknowledged with ``UserDataDeleted`` through the outbox, in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import UserDataDeleted
from codeflow_contracts.deletions import DataHoldingService
from codeflow_messaging import Emitter

SAGA_MAX_BATCH = 500
"""Records at most in one batch of a consumer group the erasure saga goes through (auth's
commands, repositories' erasures, the janitor's acknowledgements): a sweep's backlog is
applied 500 messages to a transaction, where the consumers' default is 100 (ADR 0032)."""

LockUsers = Callable[[AsyncSession, Collection[str]], Awaitable[None]]
"""A service's per-user lock (its ``db.lock_users``)."""

EraseUsers = Callable[[AsyncSession, Collection[str]], Awaitable[Mapping[str, int]]]
"""Delete all a service holds for the users, and how many rows went for each who had any."""


@dataclass(frozen=True)
class UserDataEraser:
    """One service's erasure: ``await eraser(session, commands)``, each command a
    ``(user_id, deletion_id)``, carried out in order.

    Idempotent: a user with nothing left (already erased, or named twice) is acknowledged
    all the same, so a re-sent command completes the saga.
    """

    service: DataHoldingService
    emit: Emitter
    lock_users: LockUsers
    erase: EraseUsers
    counted: str
    """What ``erase`` counts, for the log (``"profile(s)"``)."""
    logger: logging.Logger

    async def __call__(self, session: AsyncSession, commands: Sequence[tuple[str, UUID]]) -> None:
        users = sorted({user_id for user_id, _ in commands})
        await self.lock_users(session, users)
        left = dict(await self.erase(session, users))
        now = datetime.now(UTC)
        for user_id, deletion_id in commands:
            self.logger.info(
                "deletion %s: %d %s of user %s deleted",
                deletion_id,
                left.pop(user_id, 0),  # a second command for them finds none
                self.counted,
                user_id,
            )
        await self.emit.all(
            session,
            [
                UserDataDeleted(
                    deletion_id=deletion_id, user_id=user_id, service=self.service, deleted_at=now
                )
                for user_id, deletion_id in commands
            ],
        )
