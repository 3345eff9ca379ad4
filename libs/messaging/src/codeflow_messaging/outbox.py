"""The transactional outbox: messages written with the state change that caused them.

A service calls :func:`add_to_outbox` inside the transaction that changes its state; the
:class:`~codeflow_messaging.relay.OutboxRelay` publishes the rows afterwards. If the
transaction rolls back, the message was never written, so it is never published.
:func:`add_all_to_outbox` queues many messages (a sweep's commands, a batch's
acknowledgements) with one statement instead of a round trip each.

Each write also notifies the relay, on commit, that there is something to publish
(:mod:`.outbox_notifications`, ADR 0029).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, new_envelope, to_json_bytes
from codeflow_messaging.tracing import writing_to_outbox

OUTBOX_CHANNEL = "codeflow_outbox"
"""The channel every outbox write notifies, in its transaction, and the relay listens on."""


def announced(write: str) -> TextClause:
    """``write`` (an INSERT, UPDATE or DELETE of outbox rows that leaves something to publish)
    and a ``pg_notify`` on :data:`OUTBOX_CHANNEL`, in one statement (one round trip).
    PostgreSQL delivers the notification when the transaction commits, never if it rolls
    back, and folds a transaction's identical notifications into one."""
    return text(f"WITH written AS ({write} RETURNING 1) SELECT pg_notify('{OUTBOX_CHANNEL}', '')")


_INSERT = announced(
    "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
    "VALUES (:message_id, :topic, :key, :message_type, CAST(:payload AS jsonb))"
)


async def add_to_outbox(
    session: AsyncSession, envelope: Envelope[Any], *, topic: str | None = None
) -> None:
    """Queue ``envelope`` for publishing when ``session``'s transaction commits.

    The topic is the message's own unless ``topic`` names another. The Kafka key is the
    envelope's subject (the user id), so every message about one user stays in order on
    one partition. The envelope carries the current trace (see :mod:`.tracing`).
    """
    with writing_to_outbox([envelope]) as (traced,):
        await session.execute(
            _INSERT,
            {
                "message_id": traced.id,
                "topic": topic or type(traced.data).topic,
                "key": traced.subject,
                "message_type": traced.type,
                "payload": to_json_bytes(traced).decode(),
            },
        )


# WITH ORDINALITY keeps the outbox ids in the given order, which the relay publishes in.
_INSERT_ALL_SQL = """
    INSERT INTO outbox (message_id, topic, key, message_type, payload)
    SELECT message_id, topic, key, message_type, CAST(payload AS jsonb)
    FROM unnest(
        CAST(:message_ids AS uuid[]), CAST(:topics AS text[]), CAST(:keys AS text[]),
        CAST(:message_types AS text[]), CAST(:payloads AS text[])
    ) WITH ORDINALITY AS m(message_id, topic, key, message_type, payload, position)
    ORDER BY position
"""
_INSERT_ALL = announced(_INSERT_ALL_SQL)
# The same rows; a message id the outbox still holds is made pending again instead.
_REQUEUE_ALL = announced(
    _INSERT_ALL_SQL + "ON CONFLICT (message_id) DO UPDATE"
    " SET published_at = NULL, attempts = 0, refusals = 0, last_error = NULL"
)


def _rows(envelopes: Sequence[Envelope[Any]]) -> dict[str, list[Any]]:
    """The parameters of ``_INSERT_ALL``: each envelope on its message's own topic, keyed by
    its subject."""
    return {
        "message_ids": [e.id for e in envelopes],
        "topics": [type(e.data).topic for e in envelopes],
        "keys": [e.subject for e in envelopes],
        "message_types": [e.type for e in envelopes],
        "payloads": [to_json_bytes(e).decode() for e in envelopes],
    }


async def add_all_to_outbox(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """Queue ``envelopes`` in their order, each on its message's own topic and keyed by its
    subject, as :func:`add_to_outbox` would one by one, with one statement."""
    if envelopes:
        with writing_to_outbox(envelopes) as traced:
            await session.execute(_INSERT_ALL, _rows(traced))


async def requeue_in_outbox(session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
    """Queue ``envelopes`` to be published again, as the same messages.

    A re-send of a message that may already have gone out keeps its id, so every consumer's
    inbox that handled it drops the copy, and one that never got it handles it. The outbox
    keeps published rows for a while: such a row is made pending again rather than copied;
    one already purged is written anew.
    """
    if envelopes:
        with writing_to_outbox(envelopes) as traced:
            await session.execute(_REQUEUE_ALL, _rows(traced))


class Emitter:
    """One service's way out: ``await emit(session, message)`` wraps the message in a new
    envelope from ``source`` and outboxes it; ``await emit.all(session, messages)`` does the
    same for many, with one statement."""

    def __init__(self, source: str) -> None:
        self.source = source

    async def __call__(self, session: AsyncSession, message: Message) -> None:
        await add_to_outbox(session, new_envelope(message, source=self.source))

    async def all(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        envelopes = [new_envelope(message, source=self.source) for message in messages]
        await add_all_to_outbox(session, envelopes)


def emitter(source: str) -> Emitter:
    """The :class:`Emitter` of one service, whose envelopes name ``source``."""
    return Emitter(source)
