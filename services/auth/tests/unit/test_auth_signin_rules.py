"""What a sign-in writes about the person and which event says so, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from codeflow_auth.signin.domain import StoredIdentity, new_user, refresh_identity
from codeflow_auth.signin.github import GitHubProfile

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
STORED = StoredIdentity(login="ada", name="Ada", email="ada@example.com", image="https://img/ada")
ADA = GitHubProfile(
    id=42, login="ada", name="Ada", email="ada@example.com", avatar_url="https://img/ada"
)


def profile(**changes: Any) -> GitHubProfile:
    """Ada's GitHub profile with ``changes``."""
    return replace(ADA, **changes)


def test_a_first_sign_in_makes_a_user_from_the_github_profile_with_a_verified_email() -> None:
    user = new_user(ADA, email_taken=False, now=NOW)

    assert (user.login, user.name, user.image) == ("ada", "Ada", "https://img/ada")
    assert (user.email, user.email_verified) == ("ada@example.com", NOW)


def test_a_first_sign_in_leaves_out_an_email_another_user_holds() -> None:
    user = new_user(ADA, email_taken=True, now=NOW)

    assert (user.email, user.email_verified) == (None, None)
    assert user.login == "ada"


def test_a_first_sign_in_without_a_verified_github_email_has_none() -> None:
    user = new_user(profile(email=None), email_taken=False, now=NOW)

    assert (user.email, user.email_verified) == (None, None)


def test_a_returning_user_whose_profile_is_unchanged_writes_nothing_and_emits_nothing() -> None:
    refresh = refresh_identity("u1", STORED, ADA, email_taken=False, now=NOW)

    assert (refresh.changes, refresh.event, refresh.changed) == ({}, None, ())


def test_a_rename_sets_the_login_and_emits_user_updated_with_the_new_login() -> None:
    refresh = refresh_identity("u1", STORED, profile(login="ada-l"), email_taken=False, now=NOW)

    assert refresh.changes == {"login": "ada-l"}
    assert refresh.event is not None
    assert (refresh.event.user_id, refresh.event.github_id) == ("u1", 42)
    assert (refresh.event.login, refresh.event.changed) == ("ada-l", ("login",))
    assert refresh.event.updated_at == NOW
    assert refresh.changed == ("login",)


def test_each_changed_field_is_listed_once_in_the_event() -> None:
    changed = profile(name="Ada L.", avatar_url=None, email="ada@new.example")

    refresh = refresh_identity("u1", STORED, changed, email_taken=False, now=NOW)

    assert refresh.changed == ("name", "email", "image")
    assert refresh.changes == {
        "name": "Ada L.",
        "email": "ada@new.example",
        "image": None,
        "email_verified": NOW,
    }


def test_a_new_email_another_user_holds_is_not_taken_and_is_no_change() -> None:
    refresh = refresh_identity(
        "u1", STORED, profile(email="bob@example.com"), email_taken=True, now=NOW
    )

    assert (refresh.changes, refresh.event) == ({}, None)


def test_an_email_github_no_longer_vouches_for_is_cleared_with_its_verification() -> None:
    refresh = refresh_identity("u1", STORED, profile(email=None), email_taken=False, now=NOW)

    assert refresh.changes == {"email": None, "email_verified": None}
    assert refresh.changed == ("email",)
