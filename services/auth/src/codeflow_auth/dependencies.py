"""Request dependencies: the auth service's state (the transaction comes from the kit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from codeflow_auth.state import AuthState
from codeflow_service import DbSession
from codeflow_service.state import state_of

__all__ = ["DbSession", "State", "get_auth_state"]


async def get_auth_state(request: Request) -> AuthState:
    state: AuthState = state_of(request)
    return state


State = Annotated[AuthState, Depends(get_auth_state)]
