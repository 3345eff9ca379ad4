"""The request shapes hold GitHub's naming rules, so bad input stops at the edge as a 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from codeflow_repositories.repositories.actions import Monitor, SetActive
from codeflow_repositories.repositories.schemas import BulkRequest, RepositoryToMonitor

VALID = {"github_id": 1296269, "owner": "octocat", "name": "Hello-World", "full_name": ""}
VALID["full_name"] = "octocat/Hello-World"


def fields_in_error(**changes: Any) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        RepositoryToMonitor.model_validate({**VALID, **changes})
    return {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}


def test_a_valid_repository_becomes_a_monitor_action() -> None:
    assert RepositoryToMonitor.model_validate(VALID).to_action() == Monitor(
        1296269, "octocat", "Hello-World", "octocat/Hello-World"
    )


@pytest.mark.parametrize("name", ["a", "x" * 100, "dots.and_under-scores", ".github"])
def test_github_repository_names_are_accepted(name: str) -> None:
    RepositoryToMonitor.model_validate({**VALID, "name": name, "full_name": f"octocat/{name}"})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"full_name": "octocat/other"}, "full_name"),
        ({"full_name": "OCTOCAT/Hello-World"}, "full_name"),
        ({"owner": "", "full_name": "/Hello-World"}, "owner"),
        ({"owner": "a" * 40}, "owner"),
        ({"owner": "-octocat"}, "owner"),
        ({"owner": "octo cat"}, "owner"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": ".."}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"name": "trailing\n"}, "name"),
        ({"github_id": 0}, "github_id"),
        ({"github_id": 2**63}, "github_id"),
        ({"github_id": "12"}, "github_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_field_is_named_in_the_error(changes: dict[str, Any], field: str) -> None:
    assert field in fields_in_error(**changes)


def test_github_ids_up_to_the_64_bit_limit_are_accepted() -> None:
    RepositoryToMonitor.model_validate({**VALID, "github_id": 2**63 - 1})


def test_a_bulk_request_holds_one_to_five_hundred_items_of_three_kinds() -> None:
    some_id = uuid.uuid4()
    request = BulkRequest.model_validate(
        {
            "items": [
                {"action": "monitor", **VALID},
                {"action": "activate", "id": str(some_id)},
                {"action": "deactivate", "id": str(some_id)},
            ]
        }
    )
    assert [item.to_action() for item in request.items] == [
        Monitor(1296269, "octocat", "Hello-World", "octocat/Hello-World"),
        SetActive(some_id, active=True),
        SetActive(some_id, active=False),
    ]
    for count in (0, 501):
        with pytest.raises(ValidationError):
            BulkRequest.model_validate({"items": [{"action": "monitor", **VALID}] * count})


def test_a_bad_bulk_item_is_named_by_its_index() -> None:
    items = [{"action": "monitor", **VALID}] * 3 + [{"action": "explode", "id": "x"}]
    with pytest.raises(ValidationError) as caught:
        BulkRequest.model_validate({"items": items})
    assert [error["loc"][:2] for error in caught.value.errors()] == [("items", 3)]
