"""What an operator does with outbox rows the relay set aside: list, retry, discard.

A row is set aside after Kafka refused it ``max_refusals`` times (ADR 0011); its key's later
rows wait behind it. Retrying makes it pending again with its counts reset, so the relay
tries it (and, once it is published, the rows behind it) on its next round. Discarding
deletes it, which releases the rows behind it. Both act only on rows that are set aside, all
the given rows or none, so a row the relay is publishing or has published is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.outbox import announced

_COLUMNS = (
    "id, message_id, message_type, key, topic, created_at, set_aside_at, refusals, "
    "last_error, octet_length(payload::text) AS payload_bytes"
)
_SET_ASIDE = text(
    f"SELECT {_COLUMNS} FROM outbox WHERE set_aside_at IS NOT NULL ORDER BY id"  # noqa: S608
)
_LOCK = text(
    f"SELECT {_COLUMNS} FROM outbox"  # noqa: S608
    " WHERE set_aside_at IS NOT NULL AND (:all OR id = ANY(:ids)) ORDER BY id FOR UPDATE"
)
# Both wake the relay: a retried row is pending again, and a discarded one releases the rows
# of its key that waited behind it.
_RETRY = announced(
    "UPDATE outbox SET set_aside_at = NULL, refusals = 0, attempts = 0 WHERE id = ANY(:ids)"
)
_DISCARD = announced("DELETE FROM outbox WHERE id = ANY(:ids)")


@dataclass(frozen=True)
class SetAsideRow:
    """An outbox row the relay no longer tries, and why."""

    id: int
    message_id: UUID
    message_type: str
    key: str
    topic: str
    created_at: datetime
    set_aside_at: datetime
    refusals: int
    last_error: str | None
    payload_bytes: int

    def describe(self) -> str:
        """Two lines for an operator: what the message is, then why it was set aside."""
        return (
            f"row {self.id}: message {self.message_id} ({self.message_type}), "
            f"key {self.key!r}, topic {self.topic}, {self.payload_bytes} bytes, "
            f"written {self.created_at:%Y-%m-%d %H:%M:%S%z}\n"
            f"  set aside {self.set_aside_at:%Y-%m-%d %H:%M:%S%z} after {self.refusals} "
            f"refusal(s): {self.last_error}"
        )


class NotSetAside(Exception):
    """Some of the given rows are not set aside (unknown, pending or published)."""

    def __init__(self, ids: Sequence[int]) -> None:
        super().__init__(
            "not set aside (no such row, or pending, or published): "
            + ", ".join(str(i) for i in ids)
        )
        self.ids = list(ids)


async def list_set_aside(sessions: SessionFactory) -> list[SetAsideRow]:
    """Every set-aside row, oldest first."""
    async with sessions() as session:
        result = await session.execute(_SET_ASIDE)
        return [SetAsideRow(**row) for row in result.mappings()]


async def retry_set_aside(sessions: SessionFactory, ids: Sequence[int] | None) -> list[SetAsideRow]:
    """Make the given set-aside rows (``None``: all of them) pending again, with their
    counts reset; returns them. Raises :class:`NotSetAside`, changing nothing, if any given
    id is not a set-aside row."""
    async with transaction(sessions) as session:
        rows = await _lock(session, ids)
        await session.execute(_RETRY, {"ids": [row.id for row in rows]})
    return rows


async def discard_set_aside(
    sessions: SessionFactory,
    ids: Sequence[int] | None,
    *,
    before: Callable[[list[SetAsideRow]], None] = lambda rows: None,
) -> list[SetAsideRow]:
    """Delete the given set-aside rows (``None``: all of them); returns them. ``before``
    sees them, locked, before they are deleted (to print them). Raises
    :class:`NotSetAside`, changing nothing, if any given id is not a set-aside row."""
    async with transaction(sessions) as session:
        rows = await _lock(session, ids)
        before(rows)
        await session.execute(_DISCARD, {"ids": [row.id for row in rows]})
    return rows


async def _lock(session: AsyncSession, ids: Sequence[int] | None) -> list[SetAsideRow]:
    """Lock the given set-aside rows (``None``: all), or raise :class:`NotSetAside`."""
    result = await session.execute(_LOCK, {"all": ids is None, "ids": list(ids or [])})
    rows = [SetAsideRow(**row) for row in result.mappings()]
    if ids is not None:
        missing = sorted(set(ids) - {row.id for row in rows})
        if missing:
            raise NotSetAside(missing)
    return rows
