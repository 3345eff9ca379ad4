"""Request dependencies every service uses: the request's database session, and the caller.

``DbSession`` is one transaction per request, for anything that writes. ``ReadSession`` and
``ReadConnection`` are for endpoints that only read: autocommit, so a one-query endpoint
costs one round trip to the database instead of three (BEGIN, the query, COMMIT).
``ReadConnection`` is a Core connection, without the ORM session's bookkeeping: on the
dashboard's query it takes half the CPU time of a session, for hot reads of plain rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from codeflow_identity import Identity, RequireIdentity
from codeflow_messaging import transaction
from codeflow_service.state import runtime_of, verifier_of


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the endpoint returns, rolled back if it raises.

    ``scope="function"`` commits before the response is sent, so a client never sees a
    success whose writes could still fail.
    """
    async with transaction(runtime_of(request).sessions) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for an endpoint that only reads (autocommit).

    Each statement sees what was committed when it started; an endpoint whose statements
    must agree with each other, or that writes, takes ``DbSession``.
    """
    async with runtime_of(request).read_sessions() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A Core connection in autocommit for an endpoint that only reads plain rows."""
    async with runtime_of(request).read_engine.connect() as connection:
        yield connection


ReadConnection = Annotated[AsyncConnection, Depends(read_connection, scope="function")]

CurrentIdentity = Annotated[Identity, Depends(RequireIdentity(verifier_of))]
"""The caller, from the JWT the gateway forwards; 401 without a valid one."""
