"""The messages the profiles service emits, written to its outbox in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Message, new_envelope
from codeflow_messaging import add_to_outbox

SOURCE = "codeflow/profiles"


async def emit(session: AsyncSession, message: Message) -> None:
    """Queue ``message`` for Kafka; it is published only if the transaction commits."""
    await add_to_outbox(session, new_envelope(message, source=SOURCE))
