"""The engine's pool on the real PostgreSQL: who gets a connection handed back, and when."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from codeflow_messaging import create_engine
from codeflow_messaging.pool import FairPool, HandingOnQueue
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration

BOUND = 10.0


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=BOUND)
    yield engine
    await engine.dispose()


async def _waiting_for_the_pool(engine: AsyncEngine, waiters: int) -> None:
    """Return once ``waiters`` requests wait for a connection."""

    async def waiting() -> bool:
        return _queue(engine).waiting() >= waiters

    await wait_until(waiting, timeout=BOUND, what=f"{waiters} requests waiting for the pool")


def _pool(engine: AsyncEngine) -> FairPool:
    assert isinstance(engine.pool, FairPool)
    return engine.pool


def _queue(engine: AsyncEngine) -> HandingOnQueue[object]:
    queue = _pool(engine)._pool
    assert isinstance(queue, HandingOnQueue)
    return queue


async def test_a_returned_connection_goes_to_the_request_that_waited_longest(
    engine: AsyncEngine,
) -> None:
    # A newcomer whose request is already under way when the connection comes back must
    # queue behind the one that has been waiting: otherwise, under steady load, a waiter
    # loses its turn again and again, which is what a pool's p99 shows.
    order: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as connection:
            order.append(name)
            await connection.execute(text("SELECT 1"))

    holder = await engine.connect()
    waiter = asyncio.create_task(use("waiter"))
    await _waiting_for_the_pool(engine, 1)

    # The newcomer's first step is scheduled before the connection is handed back, in
    # the same turn of the loop: the order in which a busy server meets the two.
    newcomer = asyncio.create_task(use("newcomer"))
    await holder.close()

    async with asyncio.timeout(BOUND):
        await asyncio.gather(waiter, newcomer)
    assert order == ["waiter", "newcomer"]


async def test_a_waiter_cancelled_after_it_was_handed_a_connection_passes_it_on(
    engine: AsyncEngine,
) -> None:
    # A request can be cancelled (its client went away) between being handed the
    # connection and resuming to take it: the connection must go to the next waiter, not
    # out of the pool for good.
    holder = await engine.connect()
    first = asyncio.create_task(_connect_and_hold(engine))
    await _waiting_for_the_pool(engine, 1)
    second = asyncio.create_task(_connect_and_hold(engine))
    await _waiting_for_the_pool(engine, 2)

    await holder.close()
    first.cancel()

    async with asyncio.timeout(BOUND):
        connection = await second
    assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    await connection.close()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert _pool(engine).checkedout() == 0


async def _connect_and_hold(engine: AsyncEngine) -> AsyncConnection:
    return await engine.connect()


async def test_a_request_that_waits_too_long_gets_the_pools_timeout(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        holder = await engine.connect()
        with pytest.raises(PoolTimeout):
            await engine.connect()
        await holder.close()
        # The pool is whole again: the connection that was held is the one given out.
        async with asyncio.timeout(BOUND), engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        assert _pool(engine).checkedout() == 0
    finally:
        await engine.dispose()
