"""Request dependencies: the service state, and one database transaction per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_auth.state import AuthState
from codeflow_messaging import transaction


def get_auth_state(request: Request) -> AuthState:
    state: AuthState = request.app.state.auth
    return state


State = Annotated[AuthState, Depends(get_auth_state)]


async def db_session(state: State) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the endpoint returns, rolled back if it raises.

    ``scope="function"`` commits before the response is sent, so a client never sees a
    success whose writes could still fail.
    """
    async with transaction(state.sessions) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]
