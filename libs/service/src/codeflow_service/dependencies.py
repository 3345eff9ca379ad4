"""Request dependencies every service uses: one transaction per request, and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_identity import Identity, RequireIdentity
from codeflow_messaging import SessionFactory, transaction


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the endpoint returns, rolled back if it raises.

    ``scope="function"`` commits before the response is sent, so a client never sees a
    success whose writes could still fail. The app's lifespan sets ``app.state.sessions``.
    """
    sessions: SessionFactory = request.app.state.sessions
    async with transaction(sessions) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]

CurrentIdentity = Annotated[
    Identity, Depends(RequireIdentity(lambda request: request.app.state.runtime.verifier))
]
"""The caller, from the JWT the gateway forwards; 401 without a valid one."""
