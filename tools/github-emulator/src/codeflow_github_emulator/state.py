"""The emulator's memory: the accounts it serves and the codes and tokens it has handed out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from codeflow_github_emulator.clock import Clock
from codeflow_github_emulator.config import EmulatorSettings
from codeflow_github_emulator.defaults import load_fixtures
from codeflow_github_emulator.fixtures import (
    OAuthAppFixture,
    OrgFixture,
    RepoFixture,
    UserFixture,
)


@dataclass
class AuthorizationCode:
    """A code handed to the app's callback, good for one exchange within its lifetime."""

    code: str
    client_id: str
    user_id: int
    redirect_uri: str | None
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AccessGrant:
    """What a token stands for: a user, the app it was issued to, and its scopes."""

    token: str
    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass
class RefreshGrant:
    """A refresh token of an app that expires its user tokens."""

    token: str
    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass
class RateWindow:
    """How many core requests a user made in the current hour."""

    resets_at: datetime
    used: int = 0


@dataclass
class SecondaryLimit:
    """A secondary rate limit a test set off: the next ``requests`` REST calls are refused."""

    requests: int
    status_code: int
    retry_after: int


@dataclass
class EmulatorState:
    """Everything mutable; :meth:`reset` brings it back to the fixtures."""

    settings: EmulatorSettings
    clock: Clock
    clock_offset: timedelta = timedelta(0)
    users: dict[int, UserFixture] = field(default_factory=dict)
    orgs: dict[int, OrgFixture] = field(default_factory=dict)
    apps: dict[str, OAuthAppFixture] = field(default_factory=dict)
    repos: dict[int, RepoFixture] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_grants: dict[str, AccessGrant] = field(default_factory=dict)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    rate_windows: dict[int, RateWindow] = field(default_factory=dict)
    secondary_limit: SecondaryLimit | None = None
    request_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: EmulatorSettings, clock: Clock) -> EmulatorState:
        state = cls(settings=settings, clock=clock)
        state.reset()
        return state

    def reset(self) -> None:
        """Reload the fixtures; forget every code, token, rate and request count, clock shift."""
        fixtures = load_fixtures(self.settings.fixtures)
        self.users = {user.id: user for user in fixtures.users}
        self.orgs = {org.id: org for org in fixtures.orgs}
        self.apps = {app.client_id: app for app in fixtures.apps}
        self.repos = {repo.id: repo for repo in fixtures.repos}
        self.codes.clear()
        self.access_grants.clear()
        self.refresh_grants.clear()
        self.rate_windows.clear()
        self.secondary_limit = None
        self.request_counts.clear()
        self.clock_offset = timedelta(0)

    def now(self) -> datetime:
        return self.clock.now() + self.clock_offset

    def user_by_login(self, login: str) -> UserFixture | None:
        """Logins are case-insensitive on GitHub."""
        wanted = login.lower()
        return next((u for u in self.users.values() if u.login.lower() == wanted), None)

    def account(self, account_id: int) -> UserFixture | OrgFixture | None:
        """The user or organisation with this id (they share GitHub's id space)."""
        return self.users.get(account_id) or self.orgs.get(account_id)

    def account_by_login(self, login: str) -> UserFixture | OrgFixture | None:
        wanted = login.lower()
        orgs = (org for org in self.orgs.values() if org.login.lower() == wanted)
        return self.user_by_login(login) or next(orgs, None)

    def repos_of(self, user_id: int) -> list[RepoFixture]:
        return [repo for repo in self.repos.values() if repo.owner_id == user_id]

    def remove_user(self, user_id: int) -> bool:
        """Delete the account with its repositories; its tokens stop working."""
        if self.users.pop(user_id, None) is None:
            return False
        self.repos = {k: r for k, r in self.repos.items() if r.owner_id != user_id}
        self.revoke_user_tokens(user_id)
        return True

    def revoke_user_tokens(self, user_id: int, client_id: str | None = None) -> int:
        """Forget the user's tokens (of one app, or of all); how many access tokens went."""

        def matches(grant: AccessGrant | RefreshGrant) -> bool:
            return grant.user_id == user_id and client_id in (None, grant.client_id)

        gone = [t for t, g in self.access_grants.items() if matches(g)]
        for token in gone:
            del self.access_grants[token]
        for token in [t for t, g in self.refresh_grants.items() if matches(g)]:
            del self.refresh_grants[token]
        return len(gone)
