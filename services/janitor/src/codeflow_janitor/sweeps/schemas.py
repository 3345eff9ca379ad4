"""The sweep endpoint's request and answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from codeflow_janitor.sweeps.service import SweepOutcome, SweepReport


class SweepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=False, description="count and check, but issue nothing")
    force: bool = Field(
        default=False, description="sweep even if more than the allowed share of users is inactive"
    )


class SweepResult(BaseModel):
    """What a sweep found and did; also the body of a refusal's problem document."""

    outcome: SweepOutcome
    dry_run: bool
    forced: bool
    cutoff: datetime = Field(description="users last active before this are inactive")
    known_users: int
    candidates: int = Field(description="inactive users with no deletion yet")
    already_pending: int = Field(description="inactive users whose deletion is in flight")
    would_issue: int = Field(description="deletions the sweep issues (or would) within its limit")
    issued: int
    skipped: int = Field(description="candidates left for a later sweep")
    refusal: str | None = Field(description="why the sweep was (or would be) refused")
    deletion_ids: list[uuid.UUID]

    @classmethod
    def of(cls, report: SweepReport) -> SweepResult:
        """The report as the endpoint answers it: the same fields, described for the API."""
        return cls.model_validate(report, from_attributes=True)
