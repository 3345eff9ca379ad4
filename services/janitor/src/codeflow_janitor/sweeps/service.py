"""``sweep_inactive_users``: one sweep, in the caller's transaction.

A sweep finds the users whose last activity is older than the threshold and have no
deletion yet, checks the safety limits, and issues one deletion per user (at most
``max_deletions`` of them, longest idle first), set-based: one statement records every
deletion and one more queues every command, however many users there are. Only one sweep
runs at a time across all replicas: it holds a PostgreSQL advisory lock until its transaction ends.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_janitor.activity.repository import count_known_users
from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.db import try_lock_sweep
from codeflow_janitor.deletions.service import issue_deletions
from codeflow_janitor.sweeps import repository

logger = logging.getLogger("codeflow.janitor.sweeps")

SweepOutcome = Literal["issued", "dry_run", "refused", "busy"]


@dataclass(frozen=True)
class SweepPolicy:
    """Who counts as inactive, and the limits that stop a sweep from deleting too much."""

    inactive_after: timedelta
    max_deletions: int
    max_share: float

    @classmethod
    def from_settings(cls, settings: JanitorSettings) -> SweepPolicy:
        return cls(
            inactive_after=settings.inactive_after,
            max_deletions=settings.max_deletions_per_sweep,
            max_share=settings.max_deletion_share,
        )

    def cutoff(self, now: datetime) -> datetime:
        """Users last active before this moment are inactive."""
        return now - self.inactive_after

    def refusal(self, candidates: int, known_users: int) -> str | None:
        """Why deleting ``candidates`` of ``known_users`` is implausible; ``None`` if it isn't."""
        if candidates == 0 or candidates <= self.max_share * known_users:
            return None
        return (
            f"{candidates} of {known_users} known users are inactive, more than the "
            f"{self.max_share:.0%} allowed (JANITOR_MAX_DELETION_SHARE); "
            "check the activity feed, then sweep with force to delete them anyway"
        )


@dataclass(frozen=True)
class SweepReport:
    """What a sweep found and did."""

    outcome: SweepOutcome
    dry_run: bool
    forced: bool
    cutoff: datetime
    known_users: int = 0
    candidates: int = 0
    already_pending: int = 0
    would_issue: int = 0
    issued: int = 0
    skipped: int = 0
    refusal: str | None = None
    deletion_ids: list[uuid.UUID] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"sweep ({self.outcome}): {self.candidates} candidate(s) inactive since before "
            f"{self.cutoff.isoformat()}, {self.issued} deletion(s) issued, {self.skipped} "
            f"skipped; {self.already_pending} already being deleted, "
            f"{self.known_users} known user(s)"
        )
        if self.refusal is None:
            return text
        return f"{text}; {'would be refused' if self.dry_run else 'refused'}: {self.refusal}"


def plan_sweep(
    policy: SweepPolicy,
    *,
    cutoff: datetime,
    known_users: int,
    candidates: int,
    already_pending: int,
    dry_run: bool,
    force: bool,
) -> SweepReport:
    """What a sweep that counted ``candidates`` inactive users may do, before it writes.

    Refused when the candidates are an implausible share of ``known_users``, unless
    ``force``; otherwise it may issue up to ``policy.max_deletions`` (``would_issue``). The
    outcome is ``dry_run``, ``refused``, or ``issued`` with nothing issued yet: the caller
    issues the deletions and reports how many.
    """
    refusal = None if force else policy.refusal(candidates, known_users)
    outcome: SweepOutcome = "dry_run" if dry_run else "refused" if refusal else "issued"
    return SweepReport(
        outcome,
        dry_run,
        force,
        cutoff,
        known_users=known_users,
        candidates=candidates,
        already_pending=already_pending,
        would_issue=0 if refusal else min(candidates, policy.max_deletions),
        skipped=candidates,
        refusal=refusal,
    )


async def sweep_inactive_users(
    session: AsyncSession,
    policy: SweepPolicy,
    *,
    now: datetime,
    dry_run: bool = False,
    force: bool = False,
) -> SweepReport:
    """Run one sweep; a dry run counts and checks the limits but writes nothing.

    The caller commits. ``force`` overrides the share limit, never ``max_deletions``:
    what one sweep leaves is picked up by the next.
    """
    cutoff = policy.cutoff(now)
    # A dry run writes nothing, so it need not wait for (or block) a real sweep.
    if not dry_run and not await try_lock_sweep(session):
        report = SweepReport("busy", dry_run, force, cutoff)
        logger.info("sweep skipped: another sweep is running")
        return report

    known_users = await count_known_users(session)
    candidates, already_pending = await repository.count_inactive(session, cutoff=cutoff)
    found = plan_sweep(
        policy,
        cutoff=cutoff,
        known_users=known_users,
        candidates=candidates,
        already_pending=already_pending,
        dry_run=dry_run,
        force=force,
    )
    if found.outcome != "issued":
        _log(found)
        return found

    inactive = repository.inactive_users(cutoff=cutoff, limit=found.would_issue)
    issued = await issue_deletions(session, inactive, "inactive", now=now, inactive_since=cutoff)
    deletion_ids = [d.deletion_id for d in issued]
    report = replace(
        found,
        issued=len(deletion_ids),
        skipped=candidates - len(deletion_ids),
        deletion_ids=deletion_ids,
    )
    _log(report)
    return report


def _log(report: SweepReport) -> None:
    if report.outcome == "refused":
        logger.warning(report.describe())
    else:
        logger.info(report.describe())
