"""The janitor's rules without I/O: durations, settings, the safety limit, deletion status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from codeflow_janitor.config import JanitorSettings
from codeflow_janitor.models import Deletion
from codeflow_janitor.sweeps.service import SweepPolicy

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
    )


def test_a_deletion_waits_for_the_services_that_have_not_acknowledged() -> None:
    assert deletion().unacknowledged == ("auth", "profiles", "repositories")
    assert deletion(auth=NOW, repositories=NOW).unacknowledged == ("profiles",)


def test_a_pending_deletion_becomes_overdue_after_the_timeout() -> None:
    assert deletion().status(overdue_before=NOW) == "pending"
    assert deletion().status(overdue_before=NOW + timedelta(seconds=1)) == "overdue"
    assert deletion(completed=NOW).status(overdue_before=NOW + timedelta(days=1)) == "complete"
