"""Queueing many commands in one statement.

A sweep or a re-send round queues up to thousands of ``DeleteUserData`` at once; one
``INSERT`` per command (what :func:`codeflow_messaging.add_to_outbox` does) costs a round
trip each. :func:`add_all_to_outbox` writes the same rows, in the given order, with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, to_json_bytes

# WITH ORDINALITY keeps the outbox ids in the given order, which the relay publishes in.
_INSERT_ALL = text(
    """
    INSERT INTO outbox (message_id, topic, key, message_type, payload)
    SELECT message_id, topic, key, message_type, CAST(payload AS jsonb)
    FROM unnest(
        CAST(:message_ids AS uuid[]), CAST(:topics AS text[]), CAST(:keys AS text[]),
        CAST(:message_types AS text[]), CAST(:payloads AS text[])
    ) WITH ORDINALITY AS m(message_id, topic, key, message_type, payload, position)
    ORDER BY position
    """
)


async def add_all_to_outbox(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """Queue ``envelopes``, each on its message's own topic and keyed by its subject, as
    :func:`codeflow_messaging.add_to_outbox` would one by one, when the transaction commits.
    """
    if not envelopes:
        return
    await session.execute(
        _INSERT_ALL,
        {
            "message_ids": [e.id for e in envelopes],
            "topics": [type(e.data).topic for e in envelopes],
            "keys": [e.subject for e in envelopes],
            "message_types": [e.type for e in envelopes],
            "payloads": [to_json_bytes(e).decode() for e in envelopes],
        },
    )
