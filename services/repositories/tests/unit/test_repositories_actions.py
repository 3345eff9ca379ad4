"""What each action does to a row, decided without a database."""

from __future__ import annotations

import uuid

import pytest

from codeflow_repositories.github import GitHubRepository
from codeflow_repositories.repositories.actions import Monitor, SetActive, outcome_of
from codeflow_testing.github_route import repository

MONITOR = Monitor(GitHubRepository.model_validate(repository(1, name="hello")))
ID = uuid.uuid4()


@pytest.mark.parametrize(
    ("was_active", "action", "outcome"),
    [
        (None, MONITOR, "monitored"),
        (True, MONITOR, "unchanged"),
        (False, MONITOR, "activated"),
        (True, SetActive(ID, active=False), "deactivated"),
        (False, SetActive(ID, active=False), "unchanged"),
        (False, SetActive(ID, active=True), "activated"),
        (True, SetActive(ID, active=True), "unchanged"),
        (True, SetActive(ID, active=False, removing=True), "deleted"),
        (False, SetActive(ID, active=False, removing=True), "unchanged"),
    ],
)
def test_an_action_changes_a_row_only_when_its_state_differs(was_active, action, outcome) -> None:
    assert outcome_of(was_active, action) == outcome


def test_switching_a_row_that_does_not_exist_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="must exist"):
        outcome_of(None, SetActive(ID, active=True))
