"""How the relay learns of new outbox rows without polling for them (ADR 0029).

Every write to the outbox (:mod:`.outbox`) also issues ``pg_notify`` on
:data:`~codeflow_messaging.outbox.OUTBOX_CHANNEL` in its transaction; PostgreSQL delivers
it when, and only if, the transaction commits. The relay keeps one connection of its own
listening on that channel (:class:`OutboxListener`) and is woken through a :class:`Wakeup`,
which coalesces: however many notifications arrive while a round runs, the relay starts one
more round, not one each. The relay still polls, at a long interval, so a lost notification
or a dropped listening connection delays a row and never loses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_messaging.backoff import Backoff
from codeflow_messaging.database import SessionFactory
from codeflow_messaging.outbox import OUTBOX_CHANNEL

logger = logging.getLogger("codeflow.outbox")

LISTENER_NAME = "codeflow-outbox-listener"
"""The listening connection's ``application_name``, as ``pg_stat_activity`` shows it."""

LISTENER_KEEPALIVE = 30.0
"""Seconds between checks that the listening connection is still alive."""

LISTENER_BACKOFF = Backoff(initial=0.5, maximum=10.0)
"""How long the listener waits before each attempt to connect again."""

_CONNECT_TIMEOUT = 10.0
_PING_TIMEOUT = 10.0

# SQLAlchemy's own connection options, which asyncpg.connect doesn't take.
_NOT_FOR_ASYNCPG = (
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class Wakeup:
    """Notifications that something is there to publish, coalesced into one wake-up.

    :meth:`notify` never blocks and may be called any number of times; :meth:`wait` returns
    as soon as at least one notification came since the last wait (or at its timeout), and
    consumes them all.
    """

    def __init__(self) -> None:
        self._notified = asyncio.Event()

    def notify(self) -> None:
        self._notified.set()

    async def wait(self, timeout: float) -> bool:
        """Wait for a notification, at most ``timeout`` seconds; whether one came."""
        if not self._notified.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._notified.wait(), timeout)
        notified = self._notified.is_set()
        self._notified.clear()
        return notified


class OutboxListener:
    """Keeps one connection listening on the outbox's channel and notifies ``wakeup`` of
    each notification, until cancelled.

    A lost connection (or one that can't be made) is logged once (WARNING) and made again,
    with a backoff while the database can't be reached; once listening again it says so
    (INFO) and notifies ``wakeup``, since rows committed meanwhile were announced to nobody.
    The connection is checked every ``keepalive`` seconds, so one that died silently is
    noticed too.
    """

    def __init__(
        self,
        connect: Connect,
        wakeup: Wakeup,
        *,
        keepalive: float = LISTENER_KEEPALIVE,
        backoff: Backoff = LISTENER_BACKOFF,
    ) -> None:
        self._connect = connect
        self._wakeup = wakeup
        self.keepalive = keepalive
        self.backoff = backoff
        self.listening = False
        """Whether the connection is up and listening."""

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen(again=failures > 0)
                error: BaseException = ConnectionError("the connection was closed")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                error = exc
            if self.listening:
                self.listening = False
                failures = 0
            failures += 1
            if failures == 1:
                logger.warning(
                    "outbox relay: not listening for new outbox rows (%r); they wait for the "
                    "relay's next poll until it listens again",
                    error,
                )
            await asyncio.sleep(self.backoff.delay(failures))

    async def _listen(self, *, again: bool) -> None:
        """Connect, listen, and notify ``wakeup`` of each notification until the connection
        is lost."""
        connection = await self._connect()
        try:
            closed = asyncio.Event()
            connection.add_termination_listener(lambda _: closed.set())
            await connection.add_listener(OUTBOX_CHANNEL, self._notified)
            self.listening = True
            if again:
                logger.info("outbox relay: listening for new outbox rows again")
            self._wakeup.notify()
            while not closed.is_set():
                try:
                    await asyncio.wait_for(closed.wait(), self.keepalive)
                except TimeoutError:
                    await connection.execute("SELECT 1", timeout=_PING_TIMEOUT)
        finally:
            connection.terminate()

    def _notified(self, *_: Any) -> None:
        self._wakeup.notify()


def listener_connect(sessions: SessionFactory) -> Connect | None:
    """How to open a listening connection to the database ``sessions`` are bound to (None
    when they are bound to no engine): a connection of its own, outside the pool, made with
    the engine's own connection options."""
    engine = sessions.kw.get("bind") if sessions is not None else None
    if not isinstance(engine, AsyncEngine):
        return None
    _, options = engine.dialect.create_connect_args(engine.url)
    for option in _NOT_FOR_ASYNCPG:
        options.pop(option, None)
    server_settings = {**options.pop("server_settings", {}), "application_name": LISTENER_NAME}

    async def connect() -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(
            **options, server_settings=server_settings, timeout=_CONNECT_TIMEOUT
        )
        return connection

    return connect
