"""The request shapes: bad input stops at the edge as a 422 that names the field."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from codeflow_repositories.repositories.actions import MonitorById, SetActive
from codeflow_repositories.repositories.schemas import BulkRequest, RepositoryToMonitor

VALID = {"github_id": 1296269}


def fields_in_error(**changes: Any) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        RepositoryToMonitor.model_validate({**VALID, **changes})
    return {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}


def test_a_repository_to_monitor_is_named_by_its_github_id_only() -> None:
    assert RepositoryToMonitor.model_validate(VALID).to_action() == MonitorById(1296269)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"github_id": 0}, "github_id"),
        ({"github_id": 2**63}, "github_id"),
        ({"github_id": "12"}, "github_id"),
        # What a repository is called is GitHub's to say, not the client's.
        ({"owner": "octocat"}, "owner"),
        ({"full_name": "octocat/Hello-World"}, "full_name"),
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
        MonitorById(1296269),
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
