"""The janitor's own metrics, in its app's registry beside the kit's.

- ``janitor_deletions`` (a gauge by ``status``: ``pending``, ``overdue``, ``complete``,
  ``cancelled``; ``pending`` includes the overdue ones): the deletions ledger, counted with
  one query when Prometheus scrapes, so the numbers are as fresh as the scrape and keep
  moving even if the background jobs stall. A deletion is overdue once it has waited longer
  than ``ack_timeout`` for its acknowledgements, as in ``GET /janitor/deletions``.
- ``janitor_sweeps_total`` (by ``outcome``: ``issued``, ``dry_run``, ``refused``, ``busy``):
  every sweep, scheduled or asked for by an admin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Gauge

from codeflow_janitor.deletions.repository import count_by_status
from codeflow_janitor.models import DeletionStatus
from codeflow_janitor.sweeps.service import SweepOutcome, SweepReport
from codeflow_messaging import SessionFactory


class JanitorMetrics:
    """The deletions ledger by status and the sweeps by outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deletions = Gauge(
            "janitor_deletions",
            "Deletions in the ledger by status (pending includes overdue), at scrape time.",
            ("status",),
            registry=registry,
        )
        self.sweeps = Counter(
            "janitor_sweeps",
            "Sweeps for inactive users, scheduled or asked for, by outcome.",
            ("outcome",),
            registry=registry,
        )
        for status in get_args(DeletionStatus):
            self.deletions.labels(status)
        for outcome in get_args(SweepOutcome):
            self.sweeps.labels(outcome)

    def swept(self, report: SweepReport) -> None:
        self.sweeps.labels(report.outcome).inc()

    async def measure(self, sessions: SessionFactory, *, ack_timeout: timedelta) -> None:
        """Count the ledger's deletions by status (one query)."""
        async with sessions() as session:
            counts = await count_by_status(session, overdue_before=datetime.now(UTC) - ack_timeout)
        for status, count in counts.items():
            self.deletions.labels(status).set(count)
