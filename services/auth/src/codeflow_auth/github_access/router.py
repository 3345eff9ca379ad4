"""Auth's internal routes: GitHub's answers for a person, for the other services.

They are called with the service credential (``AUTH_INTERNAL_TOKEN``), never through the
gateway (which sends only ``/auth/...`` here), and stay out of the public OpenAPI document.
"""

from __future__ import annotations

import hmac
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from codeflow_auth.dependencies import State
from codeflow_auth.errors import InternalCredentialInvalid
from codeflow_auth.github_access.client import Answer


async def require_internal_credential(
    state: State, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Let through only a caller that presents ``Bearer <AUTH_INTERNAL_TOKEN>``."""
    scheme, _, credential = (authorization or "").partition(" ")
    expected = state.settings.internal_token.get_secret_value()
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credential.strip().encode(), expected.encode()
    ):
        raise InternalCredentialInvalid(
            "this route takes the service credential as Authorization: Bearer"
        )


router = APIRouter(
    prefix="/internal/github",
    include_in_schema=False,
    dependencies=[Depends(require_internal_credential)],
)

Model = TypeVar("Model", bound=BaseModel)
UserId = Annotated[str, Path(min_length=1, max_length=64)]
IfNoneMatch = Annotated[str | None, Header()]


@router.get("/users/{user_id}/repos")
async def list_repositories(
    user_id: UserId,
    state: State,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 30,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A page of the person's repositories on GitHub, with the pages after and the last."""
    answer = await state.github_access.repositories(
        user_id, page=page, per_page=per_page, etag=if_none_match
    )
    return _answered(answer)


@router.get("/users/{user_id}/repositories/{github_id}")
async def read_repository(
    user_id: UserId,
    github_id: Annotated[int, Path(ge=1)],
    state: State,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One repository by GitHub's id, if GitHub shows it to the person."""
    answer = await state.github_access.repository(user_id, github_id, etag=if_none_match)
    return _answered(answer)


def _answered(answer: Answer[Model]) -> Response:
    headers = {"ETag": answer.etag} if answer.etag else {}
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    return JSONResponse(answer.body.model_dump(), headers=headers)
