"""A connection pool that serves the requests waiting for it in the order they came.

SQLAlchemy's async pool keeps its idle connections in an ``asyncio.Queue``. A connection
handed back wakes the first waiter, but the waiter only runs on a later turn of the event
loop, and a request that asks in between takes the connection first: ``get()`` tries
``get_nowait()`` before it waits, and asyncio's queue lets it (CPython issue gh-83055). The
waiter then finds the queue empty and joins the end of the line again. Under steady load
that repeats for a few unlucky requests, which is what the p99 of a busy service shows
(ADR 0040).

:class:`HandingOnQueue` gives a connection that comes back straight to the longest waiter,
so a newcomer finds nothing idle and queues behind it. :class:`FairPool` is SQLAlchemy's
async pool on that queue; :func:`codeflow_messaging.create_engine` uses it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress
from typing import TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

_T = TypeVar("_T")


class HandingOnQueue(QueueCommon[_T]):
    """The pool's idle connections, and the requests waiting for one, first come first served.

    An item put while someone waits goes to the one that has waited longest, never into the
    queue; so the queue holds items only while nobody waits, and taking one without waiting
    cannot pass a waiter. It runs on one event loop, as the async pool does.

    It counts the requests that had to wait (``waits``) and the seconds they waited in all
    (``seconds_waited``), for the service's metrics; a request served at once costs nothing.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[_T] = deque()
        self._waiters: deque[asyncio.Future[_T]] = deque()
        self.waits = 0
        self.seconds_waited = 0.0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def waiting(self) -> int:
        """How many requests wait for an item."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def put_nowait(self, item: _T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        # The pool never waits to give a connection back: it closes one that doesn't fit.
        self.put_nowait(item)

    def get_nowait(self) -> _T:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> _T:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_T] = loop.create_future()
        self._waiters.append(waiter)
        self.waits += 1
        started = loop.time()
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                # Handed an item, then cancelled or timed out before taking it: it goes to
                # the next in line, or back to the queue, never out of the pool.
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
                with suppress(ValueError):  # unless an item's arrival already passed it by
                    self._waiters.remove(waiter)
            if isinstance(error, TimeoutError):
                raise Empty() from error
            raise
        finally:
            self.seconds_waited += loop.time() - started


class FairPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's async pool, serving whoever waited longest first (:class:`HandingOnQueue`)."""

    _queue_class = HandingOnQueue[ConnectionPoolEntry]
