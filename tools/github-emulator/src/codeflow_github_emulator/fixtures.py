"""What the emulator knows about: users, organisations, repositories, and OAuth apps.

A fixtures file is JSON of the shape of :class:`Fixtures`; see the package README.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class EmailFixture(BaseModel):
    """One row of ``GET /user/emails``."""

    model_config = ConfigDict(extra="forbid")

    email: str
    primary: bool = False
    verified: bool = True
    visibility: Literal["public", "private"] | None = None


class AccountFixture(BaseModel):
    """What users and organisations have alike. They share GitHub's account ids, so an id
    (and a login) names one or the other."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(gt=0)
    login: str = Field(min_length=1, max_length=39)
    name: str | None = None
    avatar_url: str | None = None


class UserFixture(AccountFixture):
    """A GitHub account. ``email`` is the public profile email: ``None`` keeps it private."""

    email: str | None = None
    emails: list[EmailFixture] = Field(default_factory=list)
    company: str | None = None
    blog: str = ""
    location: str | None = None
    bio: str | None = None
    twitter_username: str | None = None
    hireable: bool | None = None
    site_admin: bool = False
    followers: int = 0
    following: int = 0
    public_gists: int = 0
    private_gists: int = 0
    two_factor_authentication: bool = True
    plan: str = "free"
    created_at: datetime = _EPOCH
    updated_at: datetime = _EPOCH


class OrgFixture(AccountFixture):
    """An organisation: it owns repositories, and its members see them (it cannot sign in)."""

    member_ids: list[int] = Field(default_factory=list)


class RepoFixture(BaseModel):
    """A repository, owned by the account (user or organisation) whose id is ``owner_id``.

    Owners are named by id, so a repository follows its owner's renames; its own ``id`` stays
    the same through renames and transfers. ``collaborator_ids`` are users invited to it.
    """

    model_config = ConfigDict(extra="forbid")

    id: int = Field(gt=0)
    owner_id: int
    name: str = Field(min_length=1, max_length=100)
    private: bool = False
    collaborator_ids: list[int] = Field(default_factory=list)
    description: str | None = None
    fork: bool = False
    homepage: str | None = None
    language: str | None = None
    default_branch: str = "main"
    topics: list[str] = Field(default_factory=list)
    archived: bool = False
    is_template: bool = False
    size: int = 0
    stargazers_count: int = 0
    forks_count: int = 0
    open_issues_count: int = 0
    created_at: datetime = _EPOCH
    updated_at: datetime = _EPOCH
    pushed_at: datetime = _EPOCH


class OAuthAppFixture(BaseModel):
    """A registered OAuth app.

    A ``redirect_uri`` is accepted when it has the scheme and host of one of the
    ``callback_urls`` and a path at or under its path; the port must match too, except
    for loopback hosts, where any port will do (as GitHub allows for native apps).
    The first callback URL is where GitHub redirects when no ``redirect_uri`` is given.
    """

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    name: str = "CodeFlow (development)"
    callback_urls: list[str] = Field(min_length=1)
    expire_user_tokens: bool = False


class Fixtures(BaseModel):
    """Everything the emulator serves at start and after a reset."""

    model_config = ConfigDict(extra="forbid")

    users: list[UserFixture] = Field(default_factory=list)
    orgs: list[OrgFixture] = Field(default_factory=list)
    apps: list[OAuthAppFixture] = Field(default_factory=list)
    repos: list[RepoFixture] = Field(default_factory=list)

    @model_validator(mode="after")
    def _refer_to_known_users_by_unique_keys(self) -> Fixtures:
        accounts: list[AccountFixture] = [*self.users, *self.orgs]
        account_ids = [account.id for account in accounts]
        logins = [account.login.lower() for account in accounts]
        if len(set(account_ids)) != len(account_ids) or len(set(logins)) != len(logins):
            raise ValueError(
                "user and organisation ids and logins must be unique (logins ignoring case)"
            )
        user_ids = {user.id for user in self.users}
        people = [person for org in self.orgs for person in org.member_ids]
        people += [person for repo in self.repos for person in repo.collaborator_ids]
        strangers = [person for person in people if person not in user_ids]
        if strangers:
            raise ValueError(f"members or collaborators who are no known user: {strangers}")
        if len({app.client_id for app in self.apps}) != len(self.apps):
            raise ValueError("OAuth app client ids must be unique")
        if len({repo.id for repo in self.repos}) != len(self.repos):
            raise ValueError("repository ids must be unique")
        orphans = [repo.name for repo in self.repos if repo.owner_id not in set(account_ids)]
        if orphans:
            raise ValueError(f"repositories owned by no known account: {orphans}")
        return self
