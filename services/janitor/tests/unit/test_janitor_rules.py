"""The janitor's rules without I/O: durations, settings, the sweep's plan and safety limit,
deletion status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.consumers import consumers
from codeflow_janitor.deletions.schemas import DeletionProgress
from codeflow_janitor.models import Deletion
from codeflow_janitor.sweeps.service import SweepPolicy, SweepReport, plan_sweep

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("P90D", timedelta(days=90)),
        ("PT5S", timedelta(seconds=5)),
        ("5", timedelta(seconds=5)),
        ("2.5", timedelta(seconds=2.5)),
        (3, timedelta(seconds=3)),
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("15m", timedelta(minutes=15)),
        ("1:00:00", timedelta(hours=1)),
    ],
)
def test_a_duration_may_be_written_in_any_usual_form(written: Any, meant: timedelta) -> None:
    assert JanitorSettings(inactive_after=written).inactive_after == meant


def test_the_settings_default_to_ninety_days_hourly_and_ten_percent() -> None:
    settings = JanitorSettings()

    assert settings.inactive_after == timedelta(days=90)
    assert settings.sweep_interval == timedelta(hours=1)
    assert settings.max_deletion_share == 0.10
    assert settings.database_url.endswith("/codeflow_janitor")


def test_the_settings_come_from_janitor_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JANITOR_INACTIVE_AFTER", "PT5S")
    monkeypatch.setenv("JANITOR_ACK_TIMEOUT", "30")
    monkeypatch.setenv("JANITOR_MAX_DELETION_SHARE", "0.25")
    monkeypatch.setenv("JANITOR_DATABASE_URL", "postgresql://db/janitor")

    settings = JanitorSettings()

    assert settings.inactive_after == timedelta(seconds=5)
    assert settings.ack_timeout == timedelta(seconds=30)
    assert settings.max_deletion_share == 0.25
    assert settings.database_url == "postgresql://db/janitor"


@pytest.mark.parametrize(
    "bad",
    [
        {"inactive_after": "0"},
        {"ack_timeout": "-5"},
        {"max_deletion_share": 0},
        {"sweep_interval": -1},
    ],
)
def test_nonsense_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JanitorSettings(**bad)


def policy(share: float = 0.1) -> SweepPolicy:
    return SweepPolicy(inactive_after=timedelta(days=90), max_deletions=100, max_share=share)


def test_the_share_limit_allows_up_to_its_share_of_known_users() -> None:
    assert policy().refusal(10, 100) is None
    assert policy().refusal(0, 0) is None


def test_the_share_limit_refuses_more_and_says_why() -> None:
    refusal = policy().refusal(11, 100)

    assert refusal is not None
    assert "11 of 100 known users are inactive, more than the 10% allowed" in refusal
    assert "force" in refusal


def test_users_are_inactive_when_last_seen_before_the_threshold_ago() -> None:
    assert policy().cutoff(NOW) == NOW - timedelta(days=90)


def planned(
    candidates: int,
    known_users: int = 1000,
    *,
    max_deletions: int = 100,
    dry_run: bool = False,
    force: bool = False,
) -> SweepReport:
    limits = SweepPolicy(timedelta(days=90), max_deletions=max_deletions, max_share=0.1)
    return plan_sweep(
        limits,
        cutoff=limits.cutoff(NOW),
        known_users=known_users,
        candidates=candidates,
        already_pending=2,
        dry_run=dry_run,
        force=force,
    )


def test_a_sweep_plans_one_deletion_per_inactive_user_up_to_the_limit() -> None:
    assert (planned(40).outcome, planned(40).would_issue) == ("issued", 40)
    assert planned(100, known_users=10_000, max_deletions=30).would_issue == 30


def test_a_planned_sweep_has_issued_nothing_yet() -> None:
    plan = planned(40)

    assert (plan.issued, plan.skipped, plan.deletion_ids) == (0, 40, [])
    assert (plan.known_users, plan.candidates, plan.already_pending) == (1000, 40, 2)
    assert plan.cutoff == NOW - timedelta(days=90)


def test_a_sweep_with_nobody_inactive_is_not_refused_even_with_no_known_users() -> None:
    plan = planned(0, known_users=0)

    assert (plan.outcome, plan.refusal, plan.would_issue) == ("issued", None, 0)


def test_a_sweep_over_the_share_limit_is_refused_and_would_issue_nothing() -> None:
    plan = planned(101)

    assert plan.outcome == "refused"
    assert plan.would_issue == 0
    assert plan.refusal is not None
    assert "refused: 101 of 1000 known users are inactive" in plan.describe()


def test_force_overrides_the_share_limit_but_not_the_most_deletions_per_sweep() -> None:
    plan = planned(500, force=True)

    assert (plan.outcome, plan.refusal, plan.would_issue) == ("issued", None, 100)
    assert plan.forced


def test_a_dry_run_says_what_a_sweep_would_do_and_whether_it_would_be_refused() -> None:
    allowed, refused = planned(40, dry_run=True), planned(101, dry_run=True)

    assert (allowed.outcome, allowed.would_issue, allowed.refusal) == ("dry_run", 40, None)
    assert (refused.outcome, refused.would_issue) == ("dry_run", 0)
    assert "would be refused: 101 of 1000" in refused.describe()


def deletion(**acks: datetime) -> Deletion:
    return Deletion(
        deletion_id=uuid.uuid4(),
        user_id="u1",
        reason="inactive",
        requested_at=NOW,
        last_sent_at=NOW,
        attempts=1,
        auth_acked_at=acks.get("auth"),
        profiles_acked_at=acks.get("profiles"),
        repositories_acked_at=acks.get("repositories"),
        completed_at=acks.get("completed"),
        cancelled_at=acks.get("cancelled"),
    )


def test_a_deletion_waits_for_the_services_that_have_not_acknowledged() -> None:
    assert deletion().unacknowledged == ("auth", "profiles", "repositories")
    assert deletion(auth=NOW, repositories=NOW).unacknowledged == ("profiles",)


def test_a_pending_deletion_becomes_overdue_after_the_timeout() -> None:
    assert deletion().status(overdue_before=NOW) == "pending"
    assert deletion().status(overdue_before=NOW + timedelta(seconds=1)) == "overdue"
    assert deletion(completed=NOW).status(overdue_before=NOW + timedelta(days=1)) == "complete"


def test_the_progress_names_each_service_and_whether_it_is_done_and_nobody() -> None:
    progress = DeletionProgress.of(deletion(auth=NOW, repositories=NOW))

    assert progress.model_dump() == {
        "status": "pending",
        "services": [
            {"service": "auth", "done": True},
            {"service": "profiles", "done": False},
            {"service": "repositories", "done": True},
        ],
    }


def test_the_progress_of_an_overdue_deletion_reads_pending_and_an_ended_one_its_ending() -> None:
    overdue = deletion()
    overdue.requested_at = NOW - timedelta(days=3)

    assert DeletionProgress.of(overdue).status == "pending"
    assert DeletionProgress.of(deletion(completed=NOW)).status == "complete"
    assert DeletionProgress.of(deletion(cancelled=NOW)).status == "cancelled"


def test_the_saga_consumer_takes_a_backlog_of_acknowledgements_500_at_a_time() -> None:
    assert [consumer.max_batch for consumer in consumers(async_sessionmaker())] == [500]
