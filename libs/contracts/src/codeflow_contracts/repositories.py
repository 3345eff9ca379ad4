"""Events about monitored repositories, published by repositories."""

from typing import ClassVar, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from codeflow_contracts import topics
from codeflow_contracts.message import GitHubId, Message

RepositoryChange = Literal["monitored", "activated", "deactivated", "deleted"]
"""What happened to a monitored repository."""


class RepositoryMonitoringChanged(Message):
    """A user started monitoring a repository, (de)activated it, or stopped monitoring it."""

    message_type: ClassVar[str] = "codeflow.repository.monitoring-changed.v1"
    topic: ClassVar[str] = topics.REPOSITORY_EVENTS

    repository_id: UUID = Field(
        description="The repositories service's id of this (user, GitHub repository) row."
    )
    github_id: GitHubId = Field(description="The GitHub repository's numeric id.")
    full_name: str = Field(
        min_length=3,
        max_length=256,
        pattern=r"^[^/\s]+/[^/\s]+$",
        description="The repository's `owner/name` on GitHub.",
        examples=["octocat/Hello-World"],
    )
    is_active: bool = Field(
        description="Whether the repository is actively monitored after this change."
    )
    change: RepositoryChange = Field(
        description="`monitored`: newly added; `activated`/`deactivated`: monitoring switched "
        "on or off; `deleted`: removed from the user's repositories."
    )
    changed_at: AwareDatetime = Field(description="When the change was committed.")

    @model_validator(mode="after")
    def _activity_matches_change(self) -> Self:
        expected = {"activated": True, "deactivated": False, "deleted": False}.get(self.change)
        if expected is not None and self.is_active is not expected:
            raise ValueError(f"a {self.change!r} repository must have is_active={expected}")
        return self
