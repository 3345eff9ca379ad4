"""The transactional outbox: messages written with the state change that caused them.

A service calls :func:`add_to_outbox` inside the transaction that changes its state; the
:class:`~codeflow_messaging.relay.OutboxRelay` publishes the rows afterwards. If the
transaction rolls back, the message was never written, so it is never published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, new_envelope, to_json_bytes

_INSERT = text(
    "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
    "VALUES (:message_id, :topic, :key, :message_type, CAST(:payload AS jsonb))"
)


async def add_to_outbox(
    session: AsyncSession, envelope: Envelope[Any], *, topic: str | None = None
) -> None:
    """Queue ``envelope`` for publishing when ``session``'s transaction commits.

    The topic is the message's own unless ``topic`` names another. The Kafka key is the
    envelope's subject (the user id), so every message about one user stays in order on
    one partition.
    """
    await session.execute(
        _INSERT,
        {
            "message_id": envelope.id,
            "topic": topic or type(envelope.data).topic,
            "key": envelope.subject,
            "message_type": envelope.type,
            "payload": to_json_bytes(envelope).decode(),
        },
    )


Emit = Callable[[AsyncSession, Message], Awaitable[None]]


def emitter(source: str) -> Emit:
    """``emit(session, message)`` for one service: a new envelope from ``source``, outboxed."""

    async def emit(session: AsyncSession, message: Message) -> None:
        await add_to_outbox(session, new_envelope(message, source=source))

    return emit
