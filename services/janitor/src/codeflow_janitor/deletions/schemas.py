"""What the deletion endpoints answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from codeflow_contracts.deletions import DataHoldingService, DeletionReason
from codeflow_janitor.models import SERVICES, Deletion, DeletionStatus


class Acknowledgements(BaseModel):
    """When each service confirmed it deleted its data (``null``: not yet)."""

    auth: datetime | None
    profiles: datetime | None
    repositories: datetime | None


class DeletionView(BaseModel):
    """One deletion in the ledger."""

    deletion_id: uuid.UUID
    user_id: str
    reason: DeletionReason
    status: DeletionStatus = Field(
        description="`overdue`: pending for longer than the acknowledgement timeout; "
        "`cancelled`: auth saw the person active after the cutoff and nothing was deleted"
    )
    requested_at: datetime
    inactive_since: datetime | None = Field(
        description="for `inactive`: the sweep's cutoff auth judged activity against"
    )
    acknowledged: Acknowledgements
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancellation: str | None = Field(description="why auth cancelled it")
    last_sent_at: datetime
    attempts: int = Field(description="how many times the command was sent")

    @classmethod
    def of(cls, deletion: Deletion, *, overdue_before: datetime) -> DeletionView:
        return cls(
            deletion_id=deletion.deletion_id,
            user_id=deletion.user_id,
            reason=deletion.reason,
            status=deletion.status(overdue_before=overdue_before),
            requested_at=deletion.requested_at,
            inactive_since=deletion.inactive_since,
            acknowledged=Acknowledgements(
                auth=deletion.auth_acked_at,
                profiles=deletion.profiles_acked_at,
                repositories=deletion.repositories_acked_at,
            ),
            completed_at=deletion.completed_at,
            cancelled_at=deletion.cancelled_at,
            cancellation=deletion.cancellation,
            last_sent_at=deletion.last_sent_at,
            attempts=deletion.attempts,
        )


class DeletionCounts(BaseModel):
    pending: int = Field(description="neither complete nor cancelled (overdue ones included)")
    complete: int
    cancelled: int
    overdue: int = Field(description="pending for longer than the acknowledgement timeout")


class DeletionPage(BaseModel):
    """Counts by status, and one page of deletions (newest first)."""

    counts: DeletionCounts
    status: DeletionStatus | None
    limit: int
    offset: int
    items: list[DeletionView]


class ServiceProgress(BaseModel):
    service: DataHoldingService
    done: bool = Field(description="whether the service has deleted what it held")


class DeletionProgress(BaseModel):
    """How far one erasure is, for whoever holds its id: nothing about the person."""

    status: Literal["pending", "complete", "cancelled"] = Field(
        description="`cancelled`: auth saw the person active after the cutoff of an erasure "
        "for inactivity, and nothing was deleted"
    )
    services: list[ServiceProgress] = Field(description="each service holding user data")

    @classmethod
    def of(cls, deletion: Deletion) -> DeletionProgress:
        # Overdue is the operators' concern; to the person it is still under way.
        status = deletion.status(overdue_before=deletion.requested_at)
        return cls(
            status="pending" if status == "overdue" else status,
            services=[
                ServiceProgress(service=service, done=deletion.acked_at(service) is not None)
                for service in SERVICES
            ],
        )
