"""``POST /janitor/sweeps``: an admin's sweep on demand, or a dry run of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body

from codeflow_janitor.dependencies import AdminIdentity, Metrics, Settings
from codeflow_janitor.errors import SweepInProgress, SweepRefused
from codeflow_janitor.sweeps.schemas import SweepRequest, SweepResult
from codeflow_janitor.sweeps.service import SweepPolicy, sweep_inactive_users
from codeflow_service import DbSession

router = APIRouter(prefix="/janitor/sweeps", tags=["sweeps"])


@router.post(
    "",
    response_model=SweepResult,
    responses={
        403: {"description": "the caller is not an admin"},
        409: {"description": "refused by the safety limit, or another sweep is running"},
    },
)
async def sweep(
    session: DbSession,
    admin: AdminIdentity,
    settings: Settings,
    metrics: Metrics,
    request: Annotated[SweepRequest, Body()],
) -> SweepResult:
    """Sweep now. A refusal (409) says why and how many; ``force`` overrides the share limit.

    The body is required and must be JSON (``{}`` for the defaults): a form another site
    makes a browser post carries none, so it can't start a sweep.
    """
    report = await sweep_inactive_users(
        session,
        SweepPolicy.from_settings(settings),
        now=datetime.now(UTC),
        dry_run=request.dry_run,
        force=request.force,
    )
    metrics.swept(report)
    result = SweepResult.of(report)
    if report.outcome == "refused":
        raise SweepRefused(report.refusal, result.model_dump(mode="json"))
    if report.outcome == "busy":
        raise SweepInProgress
    return result
