"""The checker must be able to fail: one hand-made history and state that keep every rule,
and for each rule, the smallest change that breaks it, and only it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codeflow_chaos.checker import RULES, check, verdicts
from codeflow_chaos.history import Operation, read_history, write_history
from codeflow_chaos.state import Applied, Erasure, Produced, SystemState

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def op(
    seq: int, user: str, kind: str, second: float, status: int | None = 200, **more
) -> Operation:  # type: ignore[no-untyped-def]
    return Operation(
        seq=seq,
        person=f"person-{user}",
        user_id=user,
        kind=kind,  # type: ignore[arg-type]
        started=at(second),
        ended=at(second + 0.1),
        status=status,
        **more,
    )


# Ada monitors two repositories and keeps them. Bob monitors one, then is erased for
# inactivity since second 10, without any activity after it; his erasure completes.
HISTORY = [
    op(1, "ada", "sign_in", 0),
    op(2, "ada", "monitor", 1, 201, github_ids=(11,)),
    op(3, "ada", "bulk", 2, 200, github_ids=(12,)),
    op(4, "bob", "sign_in", 3),
    op(5, "bob", "monitor", 4, 201, github_ids=(21,)),
    op(6, "ada", "dashboard", 30, 503, content_type="application/problem+json", retry_after="1"),
]
BOB_ERASED = Erasure(
    user_id="bob",
    reason="inactive",
    requested_at=at(40),
    inactive_since=at(10),
    auth_acked_at=at(41),
    completed_at=at(42),
    cancelled_at=None,
)
# Auth wrote Ada's events in this order (Bob's rows went with his erasure); profiles applied
# them in order, the last two in one transaction, and the janitor applied the one it handles.
ADA_CREATED = Produced("auth", 1, "m-1", "auth.user-events", "ada", "codeflow.user.created.v1")
ADA_ACTIVE = Produced("auth", 2, "m-2", "auth.user-events", "ada", "codeflow.user.active.v1")
ADA_UPDATED = Produced("auth", 3, "m-3", "auth.user-events", "ada", "codeflow.user.updated.v1")
PRODUCED = (ADA_CREATED, ADA_ACTIVE, ADA_UPDATED)


def applied(consumer: str, message: Produced, second: float) -> Applied:
    return Applied(consumer, message.message_id, message.message_type, at(second))


APPLIED = (
    applied("profiles", ADA_CREATED, 0.5),
    applied("profiles", ADA_ACTIVE, 1.5),
    applied("profiles", ADA_UPDATED, 1.5),
    applied("janitor", ADA_ACTIVE, 1.2),
)
STATE = SystemState(
    auth_users=frozenset({"ada"}),
    profiles=frozenset({"ada"}),
    repositories=frozenset({("ada", 11), ("ada", 12)}),
    activity=frozenset({"ada"}),
    erasures=(BOB_ERASED,),
    dead_letters={"auth.user-events.profiles.dlq": 0},
    stuck_outbox_rows={"auth": 0},
    produced=PRODUCED,
    applied=APPLIED,
)


def rules_broken(history: list[Operation], state: SystemState) -> list[tuple[str, tuple[int, ...]]]:
    return [(v.rule, v.operations) for v in check(history, state)]


def test_a_run_that_kept_every_promise_passes() -> None:
    assert check(HISTORY, STATE) == []


def test_an_acknowledged_write_that_is_not_stored_is_caught() -> None:
    lost = replace(STATE, repositories=frozenset({("ada", 11)}))

    assert rules_broken(HISTORY, lost) == [("acknowledged-writes-kept", (3,))]


def test_a_write_acknowledged_after_its_owners_erasure_is_caught() -> None:
    late = [*HISTORY, op(7, "bob", "monitor", 50, 201, github_ids=(22,))]

    assert rules_broken(late, STATE) == [("acknowledged-writes-kept", (7,))]


def test_a_write_refused_after_the_erasure_is_no_violation() -> None:
    refused = [
        *HISTORY,
        op(7, "bob", "monitor", 50, 410, content_type="application/problem+json"),
    ]

    assert check(refused, STATE) == []


def test_anything_left_of_an_erased_person_is_caught() -> None:
    for leftover in (
        replace(STATE, auth_users=STATE.auth_users | {"bob"}),
        replace(STATE, profiles=STATE.profiles | {"bob"}),
        replace(STATE, repositories=STATE.repositories | {("bob", 21)}),
        replace(STATE, activity=STATE.activity | {"bob"}),
    ):
        assert rules_broken(HISTORY, leftover) == [("erased-people-gone", (4, 5))]


def test_an_erasure_of_someone_active_after_the_cutoff_is_caught() -> None:
    came_back = [*HISTORY, op(7, "bob", "dashboard", 20)]

    assert rules_broken(came_back, STATE) == [("nobody-active-erased", (7,))]


def test_activity_the_erasure_could_not_have_seen_is_no_violation() -> None:
    # Before the cutoff, after the erasure started, or not activity at all (a sign-out goes
    # to auth without a session check; a failed request shows nobody was served).
    quiet = [
        *HISTORY,
        op(7, "bob", "dashboard", 9),
        op(8, "bob", "sign_out", 20, 204),
        op(
            9, "bob", "dashboard", 21, 503, content_type="application/problem+json", retry_after="1"
        ),
        op(10, "bob", "sign_in", 45),
    ]

    assert check(quiet, STATE) == []


def test_an_erasure_the_person_asked_for_is_never_one_of_the_active() -> None:
    asked = replace(BOB_ERASED, reason="requested", inactive_since=None)
    active = [*HISTORY, op(7, "bob", "dashboard", 20)]

    assert check(active, replace(STATE, erasures=(asked,))) == []


def test_someone_who_asked_to_leave_during_an_erasure_for_inactivity_is_no_violation() -> None:
    # Bob came back, then deleted his account: the janitor folds his request into the
    # erasure for inactivity already in flight, and auth lets it go ahead (it never cancels
    # the erasure of someone who asked to leave). The ledger still says "inactive".
    left = [*HISTORY, op(7, "bob", "dashboard", 20), op(8, "bob", "delete_account", 30, 202)]

    assert check(left, STATE) == []
    # Asking only after the erasure went ahead, or being refused, excuses nothing.
    too_late = [*HISTORY, op(7, "bob", "dashboard", 20), op(8, "bob", "delete_account", 41, 202)]
    refused = [*HISTORY, op(7, "bob", "dashboard", 20), op(8, "bob", "delete_account", 30, 401)]
    assert rules_broken(too_late, STATE) == [("nobody-active-erased", (7,))]
    assert rules_broken(refused, STATE) == [("nobody-active-erased", (7,))]
    # Asking without hearing back (the gateway gave up, or no answer came) may have been
    # carried out all the same: that excuses it too.
    for unknown in (502, 504, None):
        unanswered = [
            *HISTORY,
            op(7, "bob", "dashboard", 20),
            op(8, "bob", "delete_account", 30, unknown),
        ]
        assert check_rule(unanswered, "nobody-active-erased") == []


def check_rule(history: list[Operation], rule: str) -> list[tuple[str, tuple[int, ...]]]:
    return [(v.rule, v.operations) for v in check(history, STATE) if v.rule == rule]


def test_dead_letters_and_stuck_outbox_rows_are_caught() -> None:
    stuck = replace(
        STATE,
        dead_letters={"auth.user-events.profiles.dlq": 2},
        stuck_outbox_rows={"auth": 0, "janitor": 1},
    )

    assert rules_broken(HISTORY, stuck) == [("no-dead-letters", ()), ("no-stuck-outbox", ())]


def test_a_consumer_that_applied_a_persons_events_out_of_order_is_caught() -> None:
    swapped = replace(
        STATE,
        applied=(APPLIED[0], applied("profiles", ADA_ACTIVE, 0.4), *APPLIED[2:]),
    )

    [violation] = check(HISTORY, swapped)

    assert (violation.rule, violation.operations) == ("events-in-order", (1, 2, 3, 6))
    for named in ("profiles", "ada", "m-1", "m-2", "created", "active"):
        assert named in violation.detail


def test_events_applied_together_or_about_different_people_are_in_order() -> None:
    # A transaction records its messages at one moment; the order holds per key (and per
    # producer and topic), so Bob's and the janitor's own messages don't count against Ada's;
    # a message whose outbox row is gone is not compared at all.
    bob = Produced("auth", 4, "m-4", "auth.user-events", "bob", "codeflow.user.created.v1")
    command = Produced(
        "janitor", 1, "m-5", "janitor.user-deletion-commands", "ada", "codeflow.user.delete.v1"
    )
    calm = replace(
        STATE,
        produced=(*PRODUCED, bob, command),
        applied=(
            applied("profiles", ADA_CREATED, 1.5),
            *APPLIED[1:],
            applied("profiles", bob, 0.1),
            applied("auth", command, 0.1),
            Applied("profiles", "m-purged", "codeflow.user.updated.v1", at(0)),
        ),
    )

    assert check(HISTORY, calm) == []


def test_every_rule_has_its_own_name_and_its_violations_carry_it() -> None:
    broken = replace(
        STATE,
        repositories=frozenset(),
        profiles=STATE.profiles | {"bob"},
        dead_letters={"auth.user-events.profiles.dlq": 1},
        stuck_outbox_rows={"auth": 1},
        applied=(applied("profiles", ADA_CREATED, 2), *APPLIED[1:]),
    )
    history = [*HISTORY, op(7, "bob", "dashboard", 20), op(8, "ada", "dashboard", 50, None)]

    found = verdicts(history, broken)

    assert [v.rule for v in found] == [rule.name for rule in RULES]
    assert len({rule.name for rule in RULES}) == len(RULES)
    for verdict in found:
        assert not verdict.holds
        assert {v.rule for v in verdict.violations} == {verdict.rule}


@pytest.mark.parametrize(
    ("status", "content_type", "retry_after"),
    [
        (500, "application/problem+json", None),
        (None, None, None),
        (502, "text/html", None),
        (503, "application/problem+json", None),
        (501, "application/problem+json", None),
    ],
)
def test_an_error_that_is_not_a_problem_or_no_answer_at_all_is_caught(
    status: int | None, content_type: str | None, retry_after: str | None
) -> None:
    bad = [
        *HISTORY,
        op(7, "ada", "dashboard", 50, status, content_type=content_type, retry_after=retry_after),
    ]

    assert rules_broken(bad, STATE) == [("errors-are-problems", (7,))]


def test_what_github_answered_is_not_judged_as_codeflows_answer() -> None:
    # A sign-in breaks on GitHub's side (its authorize page dropped the connection): not an
    # answer of CodeFlow's. The same failure of CodeFlow's callback is one.
    on_github = op(
        7,
        "ada",
        "sign_in",
        50,
        None,
        request="GET http://127.0.0.1:26000/login/oauth/authorize",
        error="RemoteProtocolError: Server disconnected without sending a response.",
    )
    on_codeflow = replace(on_github, seq=8, request="GET /auth/callback/github")

    assert check([*HISTORY, on_github], STATE) == []
    assert rules_broken([*HISTORY, on_codeflow], STATE) == [("errors-are-problems", (8,))]


def test_a_history_survives_its_file(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    write_history(path, HISTORY)

    assert list(read_history(path)) == HISTORY
