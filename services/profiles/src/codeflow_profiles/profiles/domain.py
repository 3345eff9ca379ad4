"""The rules of the profiles domain, free of any framework.

A GitHub login belongs to one account at a time, but accounts rename and logins are reused,
and auth reports each user's login only when that user signs in. Events about different users
travel on different partitions, so they can arrive in any order relative to each other. The
rule that makes the outcome independent of that order: **the newest claim wins**. A claim is
"user U held this login (or GitHub account) at time T"; of two claims, the later one wins,
and the user id breaks a tie so that every replay decides the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class ProfileNotFound(LookupError):
    """No profile answers the lookup (none yet, or deleted, or never)."""


@dataclass(frozen=True, order=True)
class Claim:
    """``user_id`` held a login or GitHub account at ``at``; claims order by time, then user."""

    at: datetime
    user_id: str

    def supersedes(self, other: Claim) -> bool:
        """Whether this claim is newer than ``other`` (and so takes the name from it)."""
        return self > other


@dataclass(frozen=True)
class GitHubIdentity:
    """Who a user is on GitHub, as auth stored it at ``seen_at``."""

    user_id: str
    github_id: int
    login: str
    seen_at: datetime

    @property
    def claim(self) -> Claim:
        return Claim(self.seen_at, self.user_id)

    def is_newer_than(self, recorded_at: datetime) -> bool:
        """Whether this identity replaces one recorded at ``recorded_at``; an older or
        equally old one is stale (events about one user may be replayed)."""
        return self.seen_at > recorded_at

    def username_given(self, login_holder: str) -> str | None:
        """The username the profile shows: the login, if this user holds it now."""
        return self.login if login_holder == self.user_id else None


@dataclass(frozen=True)
class ShownIdentity:
    """What a profile shows of a user's identity once the claims are decided: the GitHub id
    and username it may hold (either may be given up), stored at ``seen_at``; the user was
    active at ``active_at``."""

    user_id: str
    github_id: int | None
    username: str | None
    seen_at: datetime
    active_at: datetime


@dataclass(frozen=True)
class GitHubAccountDecision:
    """The GitHub id a profile may hold, and whose profile gives that id up for it."""

    github_id: int | None
    taken_from: str | None = None


def decide_github_account(identity: GitHubIdentity, holder: Claim | None) -> GitHubAccountDecision:
    """Whether ``identity``'s user may hold their GitHub id, given the profile that holds it.

    Auth keys users by GitHub id, so two users with one GitHub id means the older one was
    deleted in auth and its deletion hasn't been applied here yet: the newer claim takes the
    id, and an older one goes without (NULL) until the deletion arrives.
    """
    if holder is None or holder.user_id == identity.user_id:
        return GitHubAccountDecision(identity.github_id)
    if identity.claim.supersedes(holder):
        return GitHubAccountDecision(identity.github_id, taken_from=holder.user_id)
    return GitHubAccountDecision(None)


def latest_activity(activity: Iterable[tuple[str, datetime]]) -> dict[str, datetime]:
    """Each user's latest moment of activity among ``(user id, active at)`` pairs.

    Activity only ever moves a user's last activity forward, so of several reports about one
    user only the latest can matter, whatever order they came in.
    """
    latest: dict[str, datetime] = {}
    for user_id, active_at in activity:
        if user_id not in latest or active_at > latest[user_id]:
            latest[user_id] = active_at
    return latest
