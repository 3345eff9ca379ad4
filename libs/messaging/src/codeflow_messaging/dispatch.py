"""From a batch of records to handler calls: parsing, runs, and applying them.

A consumer group has one handler per message type, registered as
``Handles(UserActive, on_user_active)``: it receives a batch of typed envelopes, in record
order, inside the consumer's transaction, and only flushes. mypy checks that the handler
takes envelopes of the type it is registered for.

- :meth:`Dispatcher.parse` turns a record into a :class:`Delivery`: its envelope and its
  handler. A type the group has no handler for (or the contracts don't know) is skipped; a
  record that isn't an envelope raises ``ValueError``.
- :meth:`Dispatcher.fresh` records the deliveries' message ids in the inbox with one
  statement and keeps those not handled before.
- :func:`in_runs` groups consecutive messages of one type; :meth:`Dispatcher.apply_run`
  calls their handler once with all of them. A message handled on its own is a run of one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, UnknownMessageType, parse_envelope
from codeflow_messaging.inbox import record_all_processed

logger = logging.getLogger("codeflow.consumer")

M = TypeVar("M", bound=Message)

Handler: TypeAlias = Callable[[AsyncSession, Sequence[Envelope[M]]], Awaitable[None]]
"""Applies consecutive messages of one type, in order, inside the consumer's transaction; it
only flushes, never commits. After a failed batch it is called with one message at a time."""

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class Handles:
    """``Handles(UserActive, on_user_active)``: the group applies ``UserActive`` messages with
    ``on_user_active``, which must take ``Sequence[Envelope[UserActive]]``."""

    __slots__ = ("apply", "message")

    def __init__(self, message: type[M], apply: Handler[M]) -> None:
        self.message: type[Message] = message
        # Checked above, when the pair is made; from here on one type serves every pair.
        self.apply = cast("Handler[Any]", apply)

    def __repr__(self) -> str:
        return f"Handles({self.message.__name__}, {getattr(self.apply, '__name__', self.apply)})"


@dataclass(frozen=True)
class Delivery:
    """A record whose envelope the group has a handler for."""

    record: Record
    envelope: Envelope[Message]
    handler: Handler[Any]

    @property
    def message_type(self) -> type[Message]:
        return type(self.envelope.data)


def in_runs(deliveries: Iterable[Delivery]) -> Iterator[list[Delivery]]:
    """``deliveries`` in order, consecutive ones of the same type together."""
    run: list[Delivery] = []
    for delivery in deliveries:
        if run and run[0].message_type is not delivery.message_type:
            yield run
            run = []
        run.append(delivery)
    if run:
        yield run


class Dispatcher:
    """One consumer group's handlers by message type, and how it applies what it reads."""

    def __init__(self, group_id: str, handlers: Iterable[Handles]) -> None:
        self.group_id = group_id
        self.handlers: dict[type[Message], Handles] = {}
        for handles in handlers:
            if handles.message in self.handlers:
                raise ValueError(f"{handles.message.__name__} has two handlers")
            self.handlers[handles.message] = handles

    @property
    def message_types(self) -> list[type[Message]]:
        """The types the group handles, in the order they were registered."""
        return list(self.handlers)

    def parse(self, record: Record) -> Delivery | None:
        """The record as a delivery; ``None`` for a message the group doesn't handle.

        Raises ``ValueError`` (a pydantic ``ValidationError``, or a JSON error) when the
        record isn't an envelope.
        """
        try:
            envelope = parse_envelope(record.value)
        except UnknownMessageType as exc:
            logger.info("%s: skipping a message of a type it doesn't know: %s", self.group_id, exc)
            return None
        handles = self.handlers.get(type(envelope.data))
        return None if handles is None else Delivery(record, envelope, handles.apply)

    async def fresh(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Record the deliveries in the inbox with one statement; those not handled before, in
        order, each message id once."""
        new_ids = await record_all_processed(
            session,
            consumer=self.group_id,
            messages=((d.envelope.id, d.envelope.type) for d in deliveries),
        )
        fresh = []
        for delivery in deliveries:
            if delivery.envelope.id in new_ids:
                new_ids.discard(delivery.envelope.id)  # a second copy in the batch is skipped
                fresh.append(delivery)
        return fresh

    async def apply_run(self, session: AsyncSession, run: Sequence[Delivery]) -> None:
        """Call the handler of a run's type with its envelopes."""
        await run[0].handler(session, [d.envelope for d in run])
        # Each handler sees the database as it would in a transaction of its own, not objects
        # an earlier handler loaded and changed behind the session's back.
        await session.flush()
        session.expunge_all()
