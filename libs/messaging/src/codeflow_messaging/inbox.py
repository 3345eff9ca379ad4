"""The inbox: which messages a consumer has already handled.

A handler's effect and the inbox row are written in the same transaction, so a message
delivered twice (Kafka promises at least once) takes effect once. The outbox relay's
housekeeping forgets messages once no copy of them can arrive any more
(:func:`purge_processed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One statement for any number of messages, one or a whole batch: the same text every time,
# so the driver prepares it once. The new ids come back as one array in one row: a row each
# cost the consumer more than the statement did.
_RECORD_MANY = text(
    "WITH recorded AS ("
    "INSERT INTO processed_events (consumer, message_id, message_type) "
    "SELECT :consumer, message_id, message_type "
    "FROM unnest(CAST(:message_ids AS uuid[]), CAST(:message_types AS text[])) "
    "AS batch (message_id, message_type) "
    "ON CONFLICT (consumer, message_id) DO NOTHING "
    "RETURNING message_id) "
    "SELECT coalesce(array_agg(message_id), '{}') FROM recorded"
)


async def record_processed(
    session: AsyncSession, *, consumer: str, message_id: UUID, message_type: str
) -> bool:
    """Mark ``message_id`` handled by ``consumer``; ``False`` if it already was.

    Call it inside the handler's transaction, before the handler's own writes: when it
    returns ``False`` the message is a duplicate and the handler must not run.
    """
    fresh = await record_all_processed(
        session, consumer=consumer, messages=[(message_id, message_type)]
    )
    return message_id in fresh


async def record_all_processed(
    session: AsyncSession, *, consumer: str, messages: Iterable[tuple[UUID, str]]
) -> set[UUID]:
    """Mark every ``(message id, message type)`` handled by ``consumer`` in one statement;
    return the ids that weren't already.

    The batch form of :func:`record_processed`, with the same rule: only the messages whose
    ids it returns may be handled, in the same transaction. An id given twice is recorded
    (and returned) once.
    """
    unique = dict(messages)
    if not unique:
        return set()
    inserted = await session.scalar(
        _RECORD_MANY,
        {
            "consumer": consumer,
            "message_ids": list(unique),
            "message_types": list(unique.values()),
        },
    )
    return set(inserted)


# The oldest rows first, through the processed_at index, a bounded chunk per statement so
# that no purge holds many row locks or a long transaction.
PURGE_PROCESSED = text(
    "DELETE FROM processed_events WHERE (consumer, message_id) IN ("
    "SELECT consumer, message_id FROM processed_events"
    " WHERE processed_at < now() - make_interval(secs => :seconds)"
    " ORDER BY processed_at LIMIT :limit)"
)


async def purge_processed(session: AsyncSession, *, older_than: timedelta, limit: int) -> int:
    """Forget at most ``limit`` messages handled longer than ``older_than`` ago; returns how
    many it forgot.

    A message is recognised as a duplicate only while its row is kept, so ``older_than`` must
    exceed the time a copy can still arrive: the topics' retention plus any replay window.
    """
    result = await session.execute(
        PURGE_PROCESSED, {"seconds": older_than.total_seconds(), "limit": limit}
    )
    purged: int = getattr(result, "rowcount", 0)
    return purged
