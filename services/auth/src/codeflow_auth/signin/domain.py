"""What a sign-in writes about the person, decided from plain data.

A first sign-in makes a user from GitHub's profile; a returning one brings the stored user in
line with it and says so with ``UserUpdated``. Neither takes an email address that another
user holds: addresses are unique, and a GitHub account is not proof of owning another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from codeflow_contracts import UserUpdated

if TYPE_CHECKING:
    from codeflow_auth.signin.github import GitHubProfile


@dataclass(frozen=True)
class NewUser:
    """The columns of a first sign-in's user."""

    login: str
    name: str | None
    email: str | None
    email_verified: datetime | None
    image: str | None


def new_user(profile: GitHubProfile, *, email_taken: bool, now: datetime) -> NewUser:
    """The user a first sign-in makes: GitHub's identity, with the email (verified ``now``)
    unless ``email_taken`` by another user."""
    email = None if email_taken else profile.email
    return NewUser(
        login=profile.login,
        name=profile.name,
        email=email,
        email_verified=now if email else None,
        image=profile.avatar_url,
    )


@dataclass(frozen=True)
class StoredIdentity:
    """What auth holds of a returning user's GitHub identity."""

    login: str | None
    name: str | None
    email: str | None
    image: str | None


@dataclass(frozen=True)
class IdentityRefresh:
    """The user's columns to set, and the event that says so (``None``: nothing changed)."""

    changes: dict[str, object]
    event: UserUpdated | None

    @property
    def changed(self) -> tuple[str, ...]:
        return () if self.event is None else self.event.changed


def refresh_identity(
    user_id: str,
    stored: StoredIdentity,
    profile: GitHubProfile,
    *,
    email_taken: bool,
    now: datetime,
) -> IdentityRefresh:
    """What a returning user's sign-in changes so the user matches GitHub's ``profile``.

    The email stays as stored if GitHub's is ``email_taken`` by another user; a new email
    is verified ``now`` (or unset with it).
    """
    wanted: dict[str, str | None] = {
        "login": profile.login,
        "name": profile.name,
        "email": stored.email if email_taken else profile.email,
        "image": profile.avatar_url,
    }
    changed = tuple(field for field, value in wanted.items() if getattr(stored, field) != value)
    if not changed:
        return IdentityRefresh({}, None)
    changes: dict[str, object] = {field: wanted[field] for field in changed}
    if "email" in changed:
        changes["email_verified"] = now if wanted["email"] else None
    event = UserUpdated(
        user_id=user_id,
        github_id=profile.id,
        login=profile.login,
        changed=changed,
        updated_at=now,
    )
    return IdentityRefresh(changes, event)
