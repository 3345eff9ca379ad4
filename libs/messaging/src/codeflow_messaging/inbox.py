"""The inbox: which messages a consumer has already handled.

A handler's effect and the inbox row are written in the same transaction, so a message
delivered twice (Kafka promises at least once) takes effect once.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_RECORD = text(
    "INSERT INTO processed_events (consumer, message_id, message_type) "
    "VALUES (:consumer, :message_id, :message_type) "
    "ON CONFLICT (consumer, message_id) DO NOTHING "
    "RETURNING message_id"
)


async def record_processed(
    session: AsyncSession, *, consumer: str, message_id: UUID, message_type: str
) -> bool:
    """Mark ``message_id`` handled by ``consumer``; ``False`` if it already was.

    Call it inside the handler's transaction, before the handler's own writes: when it
    returns ``False`` the message is a duplicate and the handler must not run.
    """
    inserted = await session.scalar(
        _RECORD,
        {"consumer": consumer, "message_id": message_id, "message_type": message_type},
    )
    return inserted is not None
