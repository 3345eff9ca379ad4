"""GitHub's repositories as auth reads them from GitHub, and as it answers them internally."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

Visibility = Literal["public", "private", "internal"]


class GitHubRepository(BaseModel):
    """One repository as the internal routes answer it: what a dashboard shows of it."""

    id: int
    owner: str
    name: str
    full_name: str
    description: str | None
    visibility: Visibility
    default_branch: str
    pushed_at: str | None
    stargazers_count: int
    archived: bool
    html_url: str


class GitHubRepositoryPage(BaseModel):
    """A page of the person's repositories, and the pages GitHub's ``Link`` names."""

    items: list[GitHubRepository]
    next_page: int | None
    last_page: int | None


class _Owner(BaseModel):
    login: str


class RepositoryAnswer(BaseModel):
    """A repository in GitHub's own shape (REST API 2022-11-28): what auth relies on of it.

    A field missing or of another type means GitHub answered what it doesn't document.
    """

    model_config = ConfigDict(extra="ignore")

    id: int
    owner: _Owner
    name: str
    full_name: str
    description: str | None = None
    private: bool
    visibility: Visibility | None = None
    default_branch: str
    pushed_at: AwareDatetime | None = None
    stargazers_count: int
    archived: bool
    html_url: str

    def repository(self) -> GitHubRepository:
        return GitHubRepository(
            id=self.id,
            owner=self.owner.login,
            name=self.name,
            full_name=self.full_name,
            description=self.description,
            # Older answers carry only ``private``; ``visibility`` also tells ``internal``.
            visibility=self.visibility or ("private" if self.private else "public"),
            default_branch=self.default_branch,
            pushed_at=_iso(self.pushed_at) if self.pushed_at else None,
            stargazers_count=self.stargazers_count,
            archived=self.archived,
            html_url=self.html_url,
        )


def _iso(moment: datetime) -> str:
    """GitHub's own form: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
