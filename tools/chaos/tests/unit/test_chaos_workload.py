"""The workload's deterministic half: who the people are and what they plan, from the seed."""

from __future__ import annotations

import json
from collections import Counter
from itertools import islice, pairwise

import pytest

from codeflow_chaos import people
from codeflow_chaos.history import Operation
from codeflow_chaos.people import everyone, person
from codeflow_chaos.plans import (
    Bulk,
    DeleteAccount,
    GoQuiet,
    Leave,
    Monitor,
    Pace,
    ReadDashboard,
    SignIn,
    SignOut,
    Step,
    StopMonitoring,
    plan,
)
from codeflow_github_emulator.fixtures import RepoFixture
from codeflow_repositories.repositories.schemas import RepositoryToMonitor

PACE = Pace(think=(0.5, 2.0), away=(3.0, 6.0), start_within=4.0, quiet_for=70.0)


def steps(seed: int, index: int, count: int = 400, pace: Pace = PACE) -> list[Step]:
    return list(islice(plan(seed, person(seed, index), pace), count))


def test_one_seed_gives_the_same_people_and_the_same_plans() -> None:
    assert everyone(7, 20) == everyone(7, 20)
    assert [steps(7, n) for n in range(20)] == [steps(7, n) for n in range(20)]


def test_another_seed_gives_other_people_and_other_plans() -> None:
    ours, theirs = everyone(7, 20), everyone(8, 20)
    assert not {p.login for p in ours} & {p.login for p in theirs}
    assert not {p.github_id for p in ours} & {p.github_id for p in theirs}
    assert steps(7, 0) != steps(8, 0)


def test_people_of_a_run_share_no_login_account_or_repository() -> None:
    cast = everyone(3, 200)
    assert len({p.login for p in cast}) == len({p.github_id for p in cast}) == 200
    repositories = [r.github_id for p in cast for r in p.catalogue]
    assert len(set(repositories)) == len(repositories)
    assert cast[12].login == "chaos-3-12"


def test_every_repository_is_one_the_repositories_api_and_githubs_stand_in_accept() -> None:
    for someone in everyone(123456789, 30):
        assert len({r.name for r in someone.catalogue}) == len(someone.catalogue)
        for repository in someone.catalogue:
            RepositoryToMonitor.model_validate(repository.as_json())
            RepoFixture.model_validate(people._repo(repository))
            # Owned by the person, or by one of the accounts the run registers first.
            if repository.owner == someone.login:
                assert repository.owner_id == someone.github_id
            else:
                assert repository.owner_id == people._FIRST_OWNER_ID + people._OWNERS.index(
                    repository.owner
                )


def test_a_run_of_many_people_plans_every_kind_of_operation_many_times() -> None:
    intents = Counter(type(s.intent) for n in range(200) for s in steps(11, n, 200))
    for kind in (
        SignIn,
        ReadDashboard,
        Monitor,
        Bulk,
        StopMonitoring,
        SignOut,
        DeleteAccount,
        GoQuiet,
        Leave,
    ):
        assert intents[kind] >= 20, (kind, intents)


def test_a_plan_signs_in_first_and_after_leaving_its_session_and_keeps_its_pace() -> None:
    for n in range(50):
        plan_steps = steps(5, n)
        assert isinstance(plan_steps[0].intent, SignIn)
        assert 0 <= plan_steps[0].pause <= PACE.start_within
        for before, after in pairwise(plan_steps):
            if isinstance(before.intent, SignOut | DeleteAccount):
                assert isinstance(after.intent, SignIn | Leave)
            if isinstance(after.intent, SignIn):
                assert PACE.away[0] <= after.pause <= PACE.away[1]
            elif not isinstance(after.intent, Leave):
                assert PACE.think[0] <= after.pause <= PACE.think[1]
            if isinstance(after.intent, GoQuiet):
                assert after.intent.seconds == PACE.quiet_for
        if isinstance(plan_steps[-1].intent, Leave):
            assert len(plan_steps) < 400  # a person who leaves plans nothing more


def test_a_bulk_request_names_each_repository_once() -> None:
    bulks = [s.intent for n in range(50) for s in steps(9, n) if isinstance(s.intent, Bulk)]
    assert bulks
    for bulk in bulks:
        ids = [r.github_id for r in bulk.monitor]
        assert 1 <= len(ids) == len(set(ids))


def test_nobody_goes_quiet_when_the_pace_says_never() -> None:
    never = Pace(quiet_share=0.0)
    planned = [s.intent for n in range(50) for s in steps(2, n, pace=never)]
    assert not any(isinstance(intent, GoQuiet) for intent in planned)


@pytest.mark.parametrize(
    "pace",
    [
        {"think": (2.0, 1.0)},
        {"away": (-1.0, 1.0)},
        {"quiet_share": 1.0},
        {"come_back_share": 1.5},
        {"quiet_for": -1.0},
    ],
)
def test_a_pace_that_makes_no_sense_is_refused(pace: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Pace(**pace)  # type: ignore[arg-type]


def test_a_seed_that_would_make_logins_too_long_for_github_is_refused() -> None:
    with pytest.raises(ValueError, match="39"):
        person(10**40, 0)


def test_a_history_line_written_before_requests_and_errors_were_recorded_still_reads() -> None:
    line = json.dumps(
        {
            "seq": 1,
            "person": "p",
            "user_id": None,
            "kind": "sign_in",
            "started": "2026-12-06T12:00:00+00:00",
            "ended": "2026-12-06T12:00:01+00:00",
            "status": None,
        }
    )
    operation = Operation.from_json(line)
    assert (operation.request, operation.error) == (None, None)
    assert Operation.from_json(operation.to_json()) == operation
