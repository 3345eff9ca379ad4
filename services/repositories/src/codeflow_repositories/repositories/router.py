"""``/repositories``: the caller's monitored repositories. Every route acts for the caller only.

Routes parse, call one service function and shape the answer; a writing request's
transaction is committed by ``DbSession`` before the response leaves. The dashboard is one
query of plain rows, so it reads through ``ReadConnection`` (Core, no transaction around it).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from codeflow_repositories.problems import (
    BULK_ITEM_REJECTED,
    REPOSITORY_NOT_FOUND,
    USER_ERASED,
)
from codeflow_repositories.repositories import service
from codeflow_repositories.repositories.cursor import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
)
from codeflow_repositories.repositories.schemas import (
    BulkItemResult,
    BulkRequest,
    BulkResult,
    MonitoredRepository,
    MonitoringUpdate,
    RepositoryPage,
    RepositoryToMonitor,
)
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


@router.get("")
async def list_repositories(
    identity: CurrentIdentity,
    connection: ReadConnection,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
    include_inactive: bool = False,
) -> RepositoryPage:
    """The dashboard: the caller's active repositories (all with ``include_inactive``)."""
    page = await service.list_repositories(
        connection,
        identity.user_id,
        include_inactive=include_inactive,
        after=_position(cursor),
        limit=limit,
    )
    next_cursor = encode_cursor(page.next) if page.next else None
    # One validation of the whole page: half the cost of one per row.
    return RepositoryPage.model_validate(
        {"items": page.items, "next_cursor": next_cursor}, from_attributes=True
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": MonitoredRepository, "description": "Monitored already"},
        **_ERASED,
    },
)
async def monitor_repository(
    body: RepositoryToMonitor, identity: CurrentIdentity, session: DbSession, response: Response
) -> MonitoredRepository:
    """Monitor a repository: 201 for a new one, 200 when it was known (and is now active)."""
    applied = await service.monitor_repository(session, identity.user_id, body.to_action())
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
        **_ERASED,
    },
)
async def bulk_update(
    body: BulkRequest, identity: CurrentIdentity, session: DbSession
) -> BulkResult:
    """Apply up to 500 monitor/activate/deactivate items, all of them or none."""
    applied = await service.apply_bulk(
        session, identity.user_id, [item.to_action() for item in body.items]
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
