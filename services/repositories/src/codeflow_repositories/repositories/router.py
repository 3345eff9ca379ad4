"""``/repositories``: the caller's monitored repositories. Every route acts for the caller only.

Routes parse, call one service function and shape the answer; a writing request's
transaction is committed by ``DbSession`` before the response leaves. The dashboard is one
query of plain rows, so it reads through ``ReadConnection`` (Core, no transaction around it).
What a repository is called, and whether the caller may monitor it, is GitHub's to say: the
routes that ask it (through auth, ADR 0023) answer GitHub's refusals as problems, a 401 to
sign in again or a 503 with ``Retry-After``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from codeflow_repositories.problems import (
    BULK_ITEM_REJECTED,
    GITHUB_AUTHORIZATION_ENDED,
    GITHUB_RATE_LIMITED,
    GITHUB_UNAVAILABLE,
    REPOSITORY_NOT_FOUND,
    USER_ERASED,
)
from codeflow_repositories.repositories import refresh, service
from codeflow_repositories.repositories.cursor import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
)
from codeflow_repositories.repositories.schemas import (
    AvailablePage,
    AvailableRepository,
    BulkItemResult,
    BulkRequest,
    BulkResult,
    MonitoredRepository,
    MonitoringUpdate,
    RefreshResult,
    RepositoryPage,
    RepositoryToMonitor,
    dashboard_page_json,
)
from codeflow_repositories.state import GitHubClient
from codeflow_service import CurrentIdentity, DbSession, ReadConnection

router = APIRouter(
    prefix="/repositories",
    tags=["repositories"],
    responses={401: {"description": "No valid token"}},
)

_ERASED: dict[int | str, dict[str, Any]] = {
    410: {"description": f"The caller's account has been erased ({USER_ERASED})"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": f"Not one of the caller's repositories ({REPOSITORY_NOT_FOUND})"},
    **_ERASED,
}
_GITHUB: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No valid token, or GitHub no longer accepts the caller's access "
        f"({GITHUB_AUTHORIZATION_ENDED}: sign in again)"
    },
    503: {
        "description": f"GitHub's rate limit is spent ({GITHUB_RATE_LIMITED}) or GitHub "
        f"can't be reached ({GITHUB_UNAVAILABLE}); `Retry-After` says when to try again"
    },
}


@router.get("", response_model=RepositoryPage)
async def list_repositories(
    identity: CurrentIdentity,
    connection: ReadConnection,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
    include_inactive: bool = False,
) -> Response:
    """The dashboard: the caller's active repositories (all with ``include_inactive``)."""
    page = await service.list_repositories(
        connection,
        identity.user_id,
        include_inactive=include_inactive,
        after=_position(cursor),
        limit=limit,
    )
    next_cursor = encode_cursor(page.next) if page.next else None
    # Written once, straight from the rows; ``response_model`` still documents the page.
    return Response(dashboard_page_json(page.items, next_cursor), media_type="application/json")


@router.get("/available", responses=_GITHUB)
async def available_repositories(
    request: Request,
    response: Response,
    identity: CurrentIdentity,
    connection: ReadConnection,
    github: GitHubClient,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 30,
    q: Annotated[str | None, Query(max_length=100, description="Part of the full name.")] = None,
) -> AvailablePage:
    """The repositories GitHub shows the caller (theirs, their collaborations, their
    organisations'), a page at a time with GitHub's ``Link`` header, each marked whether it
    is monitored; ``q`` keeps those whose full name contains it."""
    found = await service.available_repositories(
        connection, github, identity.user_id, page=page, per_page=per_page, query=q or None
    )
    if links := _links(request, found.page, found.next_page, found.last_page):
        response.headers["Link"] = links
    return AvailablePage(
        items=[
            AvailableRepository(
                github_id=item.id, monitored=monitored, **item.model_dump(exclude={"id"})
            )
            for item, monitored in found.items
        ],
        page=found.page,
        next_page=found.next_page,
        last_page=found.last_page,
    )


@router.post("/refresh", responses={**_GITHUB, **_ERASED})
async def refresh_repositories(
    identity: CurrentIdentity, connection: ReadConnection, session: DbSession, github: GitHubClient
) -> RefreshResult:
    """Ask GitHub now about each of the caller's repositories: new names are stored, and one
    that is gone or no longer visible is marked ``unavailable``."""
    counts = await refresh.refresh_user(
        connection, session, github, identity.user_id, datetime.now(UTC)
    )
    return RefreshResult(
        refreshed=counts.refreshed, unchanged=counts.unchanged, unavailable=counts.unavailable
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": MonitoredRepository, "description": "Monitored already"},
        404: {
            "description": f"GitHub shows the caller no such repository ({REPOSITORY_NOT_FOUND})"
        },
        **_GITHUB,
        **_ERASED,
    },
)
async def monitor_repository(
    body: RepositoryToMonitor,
    identity: CurrentIdentity,
    session: DbSession,
    github: GitHubClient,
    response: Response,
) -> MonitoredRepository:
    """Monitor a GitHub repository, by id, as GitHub shows it to the caller: 201 for a new
    one, 200 when it was known (and is now active)."""
    applied = await service.monitor_repository(session, github, identity.user_id, body.github_id)
    if applied.outcome != "monitored":
        response.status_code = status.HTTP_200_OK
    return MonitoredRepository.model_validate(applied.repository)


@router.patch("/{repository_id}", responses=_NOT_FOUND)
async def update_repository(
    repository_id: uuid.UUID, body: MonitoringUpdate, identity: CurrentIdentity, session: DbSession
) -> MonitoredRepository:
    """Switch monitoring of one repository on or off."""
    applied = await service.set_monitoring(
        session, identity.user_id, repository_id, active=body.is_active
    )
    return MonitoredRepository.model_validate(applied.repository)


@router.delete(
    "/{repository_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND,
)
async def delete_repository(
    repository_id: uuid.UUID, identity: CurrentIdentity, session: DbSession
) -> None:
    """Stop monitoring a repository (a soft delete: it stays listed with ``include_inactive``)."""
    await service.stop_monitoring(session, identity.user_id, repository_id)


@router.post(
    "/bulk",
    responses={
        422: {"description": f"Invalid input, or an item rejected ({BULK_ITEM_REJECTED})"},
        **_GITHUB,
        **_ERASED,
    },
)
async def bulk_update(
    body: BulkRequest, identity: CurrentIdentity, session: DbSession, github: GitHubClient
) -> BulkResult:
    """Apply up to 500 monitor/activate/deactivate items, all of them or none; a repository
    to monitor is asked of GitHub as ``POST /repositories`` does."""
    applied = await service.apply_bulk(
        session, github, identity.user_id, [item.to_action() for item in body.items]
    )
    return BulkResult(
        results=[
            BulkItemResult(index=index, id=result.repository.id, outcome=result.outcome)
            for index, result in enumerate(applied)
        ],
        changed=sum(result.changed for result in applied),
    )


def _position(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except InvalidCursor as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc), "input": None}]
        ) from exc


def _links(request: Request, page: int, next_page: int | None, last_page: int | None) -> str:
    """GitHub's ``Link`` header for this page, as references relative to the request's own
    URL, so they hold through the gateway's ``/api`` prefix as well as directly."""
    query = {key: value for key, value in request.query_params.items() if key != "page"}
    pages = {"first": 1 if page > 1 else None, "prev": page - 1 if page > 1 else None}
    pages |= {"next": next_page, "last": last_page if last_page != page else None}
    return ", ".join(
        f'<available?{urlencode({**query, "page": number})}>; rel="{rel}"'
        for rel, number in pages.items()
        if number is not None
    )
