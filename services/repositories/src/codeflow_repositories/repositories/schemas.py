"""The HTTP shapes of the repositories API, and their translation into service actions.

Names are checked against GitHub's own rules (logins: letters, digits, ``-``/``_``, at most
39 characters; repository names: letters, digits, ``.``, ``-``, ``_``, at most 100), so
nothing the database or the event contracts would refuse gets past the edge.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from codeflow_repositories.repositories.actions import Monitor, Outcome, SetActive

OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$"
NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"
FULL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}/[A-Za-z0-9_.-]{1,100}$"
MAX_BULK_ITEMS = 500

GitHubId = Annotated[
    int,
    Field(strict=True, ge=1, le=2**63 - 1, description="GitHub's numeric repository id (64-bit)."),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepositoryToMonitor(_Request):
    """A GitHub repository, as the client read it from GitHub."""

    github_id: GitHubId
    owner: str = Field(min_length=1, max_length=39, pattern=OWNER_PATTERN, examples=["octocat"])
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN, examples=["Hello-World"])
    full_name: str = Field(
        min_length=3,
        max_length=140,
        pattern=FULL_NAME_PATTERN,
        description="`owner/name`, exactly.",
        examples=["octocat/Hello-World"],
    )

    @field_validator("name")
    @classmethod
    def _not_a_path_segment(cls, name: str) -> str:
        if name in {".", ".."}:
            raise ValueError("a repository can't be named '.' or '..'")
        return name

    @field_validator("full_name")
    @classmethod
    def _owner_slash_name(cls, full_name: str, info: ValidationInfo) -> str:
        owner, name = info.data.get("owner"), info.data.get("name")
        if owner is not None and name is not None and full_name != f"{owner}/{name}":
            raise ValueError("full_name must be owner/name")
        return full_name

    def to_action(self) -> Monitor:
        return Monitor(self.github_id, self.owner, self.name, self.full_name)


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


class DashboardRepository(_Response):
    """What the dashboard shows of one repository."""

    id: uuid.UUID
    github_id: int
    full_name: str
    owner: str
    name: str
    is_active: bool = Field(strict=True)


class RepositoryPage(_Response):
    """One page of repositories, in ``full_name`` order."""

    items: list[DashboardRepository]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
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
