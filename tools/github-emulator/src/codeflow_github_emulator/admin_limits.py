"""``/_emulator/…`` for rate limits: set a user's budget, set off a secondary limit, and read
how many requests each route answered (a reset clears all three)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.admin import json_object, named_user, validated
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.rate_limits import rate_headers, set_remaining
from codeflow_github_emulator.state import SecondaryLimit


class _Budget(BaseModel):
    user_id: int | None = None
    login: str | None = None
    remaining: int = Field(ge=0)


class _SecondaryOrder(BaseModel):
    requests: int = Field(default=1, gt=0)
    status: Literal[403, 429] = 403
    retry_after: int = Field(default=60, ge=0)


async def set_rate_limit(request: Request) -> Response:
    """``{"user_id" or "login", "remaining"}``: what the user has left this hour (0: none).

    Answers the rate headers the user's next request would start from.
    """
    state = emulator_state(request)
    order = validated(_Budget, await json_object(request))
    user = named_user(state, order.login, order.user_id)
    remaining = min(order.remaining, state.settings.rate_limit)
    return JSONResponse(rate_headers(state, set_remaining(state, user.id, remaining)))


async def trigger_secondary_limit(request: Request) -> Response:
    """``{"requests": n, "status": 403 | 429, "retry_after": s}``: the next n authenticated
    REST requests are refused by a secondary rate limit."""
    state = emulator_state(request)
    order = validated(_SecondaryOrder, await json_object(request))
    state.secondary_limit = SecondaryLimit(order.requests, order.status, order.retry_after)
    return Response(status_code=204)


async def request_counts(request: Request) -> Response:
    """``{"GET /user/repos": {"200": 2, "304": 1}, …}``: answered REST requests per route."""
    return JSONResponse(emulator_state(request).request_counts)
