"""The HTTP shapes of the repositories API, and their translation into service actions.

A repository to monitor is named by its GitHub id only: what it is called, and the rest the
dashboard shows, is what GitHub says (ADR 0023).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from codeflow_repositories.models import GitHubState
from codeflow_repositories.repositories.actions import MonitorById, Outcome, SetActive

MAX_BULK_ITEMS = 500

GitHubId = Annotated[
    int,
    Field(strict=True, ge=1, le=2**63 - 1, description="GitHub's numeric repository id (64-bit)."),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepositoryToMonitor(_Request):
    """A GitHub repository, by id; CodeFlow asks GitHub, as the caller, for the rest."""

    github_id: GitHubId

    def to_action(self) -> MonitorById:
        return MonitorById(self.github_id)


class MonitoringUpdate(_Request):
    """Switch monitoring on or off."""

    is_active: bool = Field(strict=True)


class MonitorItem(RepositoryToMonitor):
    action: Literal["monitor"]


class ActivateItem(_Request):
    action: Literal["activate"]
    id: uuid.UUID

    def to_action(self) -> SetActive:
        return SetActive(self.id, active=True)


class DeactivateItem(_Request):
    action: Literal["deactivate"]
    id: uuid.UUID

    def to_action(self) -> SetActive:
        return SetActive(self.id, active=False)


BulkItem = Annotated[MonitorItem | ActivateItem | DeactivateItem, Field(discriminator="action")]


class BulkRequest(_Request):
    """Up to 500 changes, applied together or not at all; each repository at most once."""

    items: list[BulkItem] = Field(min_length=1, max_length=MAX_BULK_ITEMS)


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GitHubDetails(_Response):
    """What GitHub said of a repository, as useful at a glance."""

    full_name: str
    owner: str
    name: str
    description: str | None
    visibility: str | None = Field(description="`public`, `private` or `internal`.")
    default_branch: str | None
    pushed_at: datetime | None = Field(description="The last push GitHub knows of.")
    stargazers_count: int | None
    html_url: str | None


class DashboardRepository(GitHubDetails):
    """What the dashboard shows of one repository."""

    id: uuid.UUID
    github_id: int
    is_active: bool = Field(strict=True)
    github_state: GitHubState = Field(
        description="`unavailable`: GitHub answered that it is gone, or that the caller can "
        "no longer see it, when last asked."
    )
    refreshed_at: datetime | None = Field(description="When GitHub was last asked about it.")


class RepositoryPage(_Response):
    """One page of repositories, in ``full_name`` order."""

    items: list[DashboardRepository]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


PageRow = Mapping[str, Any]
"""A row of the dashboard query: its columns are :class:`DashboardRepository`'s fields, in
the same order."""


def _as_dicts(model: type[BaseModel], **nested: Any) -> Any:
    """``model``'s fields, in order, as a TypedDict (``nested`` replaces a field's type)."""
    fields = {
        name: nested.get(name, field.annotation) for name, field in model.model_fields.items()
    }
    return TypedDict(f"_{model.__name__}", fields)  # type: ignore[operator]


# The page's JSON written by field type from plain dicts: the rows come from our own typed
# columns, so validating them into models first (and FastAPI validating the page again) only
# cost CPU on the hottest route. The shape is the models', never written twice.
_DASHBOARD_PAGE = TypeAdapter(
    _as_dicts(RepositoryPage, items=list[_as_dicts(DashboardRepository)])  # type: ignore[misc]
)


def dashboard_page_json(rows: Sequence[PageRow], next_cursor: str | None) -> bytes:
    """A :class:`RepositoryPage` of ``rows`` as JSON, byte for byte as the model writes it."""
    return _DASHBOARD_PAGE.dump_json(
        {"items": [dict(row) for row in rows], "next_cursor": next_cursor}
    )


class MonitoredRepository(DashboardRepository):
    """One repository row, in full."""

    created_at: datetime
    updated_at: datetime


class BulkItemResult(_Response):
    index: int
    id: uuid.UUID
    outcome: Outcome


class BulkResult(_Response):
    results: list[BulkItemResult]
    changed: int = Field(description="How many rows changed (and events were emitted).")


class AvailableRepository(GitHubDetails):
    """One of the caller's GitHub repositories, and whether they monitor it already."""

    github_id: int
    monitored: bool


class AvailablePage(_Response):
    """One page of the caller's GitHub repositories, as GitHub pages them."""

    items: list[AvailableRepository]
    page: int
    next_page: int | None
    last_page: int | None


class RefreshResult(_Response):
    """What a refresh found, one count per stored repository asked about."""

    refreshed: int = Field(description="GitHub said something new (a rename, a push, ...).")
    unchanged: int = Field(description="GitHub said nothing changed (a 304).")
    unavailable: int = Field(description="GitHub said it is gone or not visible to you.")
