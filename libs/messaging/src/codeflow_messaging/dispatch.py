"""From a batch of records to handler calls: parsing, runs, and applying them.

A consumer group has one handler per message type, registered as
``Handles(UserActive, on_user_active)``: it receives a batch of typed envelopes, in record
order, inside the consumer's transaction, and only flushes. mypy checks that the handler
takes envelopes of the type it is registered for.

:meth:`Dispatcher.handle` takes a batch of records to completion:

- each record is parsed into a :class:`Delivery`, its envelope and its handler. A type the
  group has no handler for (or the contracts don't know) is skipped; a record that isn't an
  envelope is dead-lettered at once;
- in one transaction, the deliveries' message ids go into the inbox with one statement, and
  the messages not handled before are applied in record order, each run of consecutive
  messages of one type (:func:`in_runs`) by one call of its handler;
- if that transaction fails, each delivery is applied alone, in a transaction of its own
  (its handler called with that message only), retried and dead-lettered as
  :mod:`.retries` says. The failed batch counts as a message's first attempt when the run
  that failed was that message alone.

A database outage is waited out, a batch as a batch, without counting attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeAlias, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import Envelope, Message, UnknownMessageType, parse_envelope
from codeflow_messaging.database import SessionFactory, transaction
from codeflow_messaging.inbox import record_all_processed
from codeflow_messaging.retries import Record, Retries
from codeflow_messaging.tracing import processing

logger = logging.getLogger("codeflow.consumer")

M = TypeVar("M", bound=Message)

Handler: TypeAlias = Callable[[AsyncSession, Sequence[Envelope[M]]], Awaitable[None]]
"""Applies consecutive messages of one type, in order, inside the consumer's transaction; it
only flushes, never commits. After a failed batch it is called with one message at a time."""


class Handles:
    """``Handles(UserActive, on_user_active)``: the group applies ``UserActive`` messages with
    ``on_user_active``, which must take ``Sequence[Envelope[UserActive]]``.

    Only the constructor is generic: a generic class would, inside a list passed as
    ``Iterable[Handles[Any]]``, take its type from that context and check nothing.
    """

    __slots__ = ("apply", "message")

    def __init__(self, message: type[M], apply: Handler[M]) -> None:
        self.message: type[Message] = message
        # mypy checked the pair in this call; past it, every pair has the same type.
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

    def __init__(
        self,
        group_id: str,
        handlers: Iterable[Handles],
        sessions: SessionFactory,
        retries: Retries | None = None,
    ) -> None:
        self.group_id = group_id
        self.handlers: dict[type[Message], Handles] = {}
        for handles in handlers:
            if handles.message in self.handlers:
                raise ValueError(f"{handles.message.__name__} has two handlers")
            self.handlers[handles.message] = handles
        self._sessions = sessions
        self.retries = retries or Retries(group_id)

    @property
    def message_types(self) -> list[type[Message]]:
        """The types the group handles, in the order they were registered."""
        return list(self.handlers)

    async def handle(self, records: Sequence[Record]) -> None:
        """Handle ``records`` to completion, in order: each applied, skipped, or dead-lettered."""
        deliveries = []
        for record in records:
            try:
                delivery = self.parse(record)
            except ValueError as exc:  # not an envelope: no retry can change that
                await self.retries.dead_letter(record, exc, attempts=1)
                continue
            if delivery is not None:
                deliveries.append(delivery)
        if deliveries:
            with processing(self.group_id, [(d.record.topic, d.envelope) for d in deliveries]):
                await self._apply_batch(deliveries)

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

    async def _apply_batch(self, deliveries: list[Delivery]) -> None:
        """Apply ``deliveries`` in one transaction, or one by one if that fails."""
        at_fault: Delivery | None = None  # the message whose run, of it alone, failed

        async def apply_all() -> int:
            nonlocal at_fault
            at_fault = None
            async with transaction(self._sessions) as session:
                fresh = await self._fresh(session, deliveries)
                for run in in_runs(fresh):
                    at_fault = run[0] if len(run) == 1 else None
                    await self._apply_run(session, run)
                at_fault = None
            return len(fresh)

        try:
            applied = await self.retries.until_the_database_answers(
                apply_all, f"applying a batch of {len(deliveries)} messages"
            )
        except Exception as exc:
            logger.warning(
                "%s: a batch of %d messages failed and was rolled back (%r); "
                "handling them one at a time, so only a message that keeps failing is "
                "dead-lettered",
                self.group_id,
                len(deliveries),
                exc,
            )
            for delivery in deliveries:
                await self.retries.apply_alone(
                    delivery.record,
                    delivery.envelope,
                    partial(self._apply_alone, delivery),
                    failed=(exc,) if delivery is at_fault else (),
                )
            return
        if skipped := len(deliveries) - applied:
            logger.info(
                "%s: %d of a batch of %d messages already handled; skipped the duplicates",
                self.group_id,
                skipped,
                len(deliveries),
            )

    async def _apply_alone(self, delivery: Delivery) -> bool:
        """Apply one delivery in its own transaction; ``False`` if it was a duplicate."""
        async with transaction(self._sessions) as session:
            if fresh := await self._fresh(session, [delivery]):
                await self._apply_run(session, fresh)
        return bool(fresh)

    async def _fresh(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> list[Delivery]:
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

    async def _apply_run(self, session: AsyncSession, run: Sequence[Delivery]) -> None:
        """Call the handler of a run's type with its envelopes."""
        await run[0].handler(session, [d.envelope for d in run])
        # Each handler sees the database as it would in a transaction of its own, not objects
        # an earlier handler loaded and changed behind the session's back.
        await session.flush()
        session.expunge_all()
