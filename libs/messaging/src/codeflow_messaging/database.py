"""Engines, sessions and the transaction scope every service uses.

The edge (an HTTP request dependency or the per-message scope of a consumer) owns the
transaction: it opens one with :func:`transaction`, service functions only ``flush()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from codeflow_messaging.pool import FairPool

SessionFactory = async_sessionmaker[AsyncSession]


def async_database_url(url: str) -> str:
    """Return ``url`` with the asyncpg driver, whatever driver (or none) it named.

    ``DATABASE_URL`` is usually written the way libpq and Prisma expect
    (``postgresql://...``); SQLAlchemy needs the driver spelled out.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise ValueError(f"DATABASE_URL must point at PostgreSQL, got {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An asyncpg engine for ``url``; ``options`` go to :func:`create_async_engine`.

    Lost connections are handled when they are met, not looked for before each use: a ping
    on every checkout costs two round trips (asyncpg pings with BEGIN and ROLLBACK), more
    than a dashboard query. A statement that finds its connection dead raises a
    ``DBAPIError`` with ``connection_invalidated`` set, and SQLAlchemy then replaces every
    connection the pool held, so one database restart fails the statements in flight and no
    more. Callers treat it as transient: consumers retry, HTTP answers 503.

    Its pool (:class:`~codeflow_messaging.pool.FairPool`) gives a connection that comes back
    to the request that has waited longest for one.
    """
    options.setdefault("poolclass", FairPool)
    return create_async_engine(async_database_url(url), **options)


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (no implicit I/O)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` in autocommit, for work that only reads: a query is one round trip.

    No BEGIN and no COMMIT go to the server; each statement sees the data committed when it
    starts, so a read that needs several statements to agree belongs in a transaction.
    Writing through it commits each statement on its own: don't. It shares the pool.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_read_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions on :func:`read_only` ``engine``: ORM reads with no transaction around them."""
    return create_session_factory(read_only(engine))


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One session in one transaction: committed when the block ends, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def run_on_connection(
    session: AsyncSession, statement: Executable, **params: Any
) -> Result[Any]:
    """Run ``statement`` (built once, with named ``bindparam()``s) on ``session``'s
    connection, in its transaction, as the SQL it is: no ORM processing around it (ADR 0038).
    For statements whose results need no objects loaded or brought up to date."""
    connection = await session.connection()
    return await connection.execute(statement, params)
