"""``GET /janitor/deletions/{id}``, its ``/progress`` for whoever holds the id, and the
admins' ``GET /janitor/deletions`` summary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from codeflow_janitor.deletions import service
from codeflow_janitor.deletions.schemas import (
    DeletionCounts,
    DeletionPage,
    DeletionProgress,
    DeletionView,
)
from codeflow_janitor.dependencies import AdminIdentity, Settings
from codeflow_janitor.errors import DeletionNotFound
from codeflow_janitor.models import DeletionStatus
from codeflow_service import CurrentIdentity, DbSession, ReadSession

router = APIRouter(prefix="/janitor/deletions", tags=["deletions"])


@router.get("/{deletion_id}", response_model=DeletionView)
async def show_deletion(
    deletion_id: uuid.UUID, session: ReadSession, identity: CurrentIdentity, settings: Settings
) -> DeletionView:
    """One deletion, to an admin or to the user it concerns (404 to anyone else)."""
    deletion = await service.find_deletion(session, deletion_id)
    if deletion is None or not (identity.is_admin or identity.user_id == deletion.user_id):
        raise DeletionNotFound
    return DeletionView.of(deletion, overdue_before=datetime.now(UTC) - settings.ack_timeout)


@router.get(
    "/{deletion_id}/progress",
    response_model=DeletionProgress,
    responses={404: {"description": "No deletion with this id (yet: keep polling)"}},
)
async def show_deletion_progress(
    deletion_id: uuid.UUID, session: ReadSession, response: Response
) -> DeletionProgress:
    """How far an erasure is, without a token: the person who asked for it has no session
    left, and its random id, which ``DELETE /auth/me`` gave them, is what lets them read it.

    It says which services have deleted their share and whether the erasure is complete
    (or was cancelled), never whose it is. Not stored by any cache: it changes until done.
    """
    deletion = await service.find_deletion_followed_as(session, deletion_id)
    if deletion is None:
        raise DeletionNotFound
    response.headers["Cache-Control"] = "no-store"
    return DeletionProgress.of(deletion)


@router.get("", response_model=DeletionPage)
async def summarise_deletions(
    session: DbSession,
    admin: AdminIdentity,
    settings: Settings,
    status: DeletionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeletionPage:
    """How many deletions are pending, complete and overdue, and a page of them (admins)."""
    overdue_before = datetime.now(UTC) - settings.ack_timeout
    summary = await service.summarise_deletions(
        session, status=status, overdue_before=overdue_before, limit=limit, offset=offset
    )
    return DeletionPage(
        counts=DeletionCounts(**summary.counts),
        status=status,
        limit=limit,
        offset=offset,
        items=[DeletionView.of(d, overdue_before=overdue_before) for d in summary.items],
    )
