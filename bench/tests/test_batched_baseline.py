"""B3's batching baseline: what it makes of a batch of records, and how its end state is
compared with the service's (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from codeflow_bench.batched_baseline import (
    cpu_per_event_us,
    end_state_differences,
    latest_activity,
)
from codeflow_contracts import UserActive, UserCreated, new_envelope, to_json_bytes

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def active(user_id: str, at: datetime) -> bytes:
    return to_json_bytes(
        new_envelope(UserActive(user_id=user_id, active_at=at), source="codeflow/auth")
    )


def test_each_user_keeps_only_the_latest_activity_of_a_batch_in_any_order() -> None:
    values = [
        active("a", NOON),
        active("b", NOON + timedelta(minutes=5)),
        active("a", NOON + timedelta(minutes=2)),
        active("a", NOON + timedelta(minutes=1)),
    ]

    assert latest_activity(values) == {
        "a": NOON + timedelta(minutes=2),
        "b": NOON + timedelta(minutes=5),
    }


def test_the_activity_read_back_is_timezone_aware_as_the_column_is() -> None:
    [at] = latest_activity([active("a", NOON)]).values()

    assert at.utcoffset() == timedelta(0)


def test_records_of_other_types_are_left_alone() -> None:
    created = to_json_bytes(
        new_envelope(
            UserCreated(user_id="c", github_id=1, login="c", created_at=NOON),
            source="codeflow/auth",
        )
    )
    not_activity = json.dumps({"type": "codeflow.user.active.v2", "data": {}}).encode()

    assert latest_activity([created, not_activity, active("a", NOON)]) == {"a": NOON}


def test_an_empty_batch_has_no_activity() -> None:
    assert latest_activity([]) == {}


def test_the_same_end_state_has_no_differences() -> None:
    state = {"a": NOON, "b": NOON + timedelta(seconds=1)}

    assert end_state_differences(state, dict(state)) == []


def test_a_user_left_behind_or_missing_is_a_difference_named_once() -> None:
    expected = {"a": NOON, "b": NOON, "c": NOON}
    found = {"a": NOON, "b": NOON - timedelta(days=1), "d": NOON}

    assert end_state_differences(expected, found) == ["b", "c", "d"]


def test_cpu_per_event_is_in_microseconds_and_missing_without_events() -> None:
    assert cpu_per_event_us(2.5, 100_000) == 25.0
    assert cpu_per_event_us(1.0, 0) is None
