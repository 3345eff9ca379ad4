"""The newest-claim-wins rule that decides who holds a login or GitHub account, and what
recording an identity changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codeflow_profiles.profiles.domain import (
    Claim,
    GitHubAccountDecision,
    GitHubIdentity,
    decide_github_account,
    latest_activity,
)

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_later_claim_supersedes_an_earlier_one_whoever_makes_it() -> None:
    earlier, later = Claim(NOON, "zed"), Claim(NOON + timedelta(microseconds=1), "amy")
    assert later.supersedes(earlier)
    assert not earlier.supersedes(later)


def test_claims_at_the_same_moment_are_decided_by_user_id_the_same_way_every_time() -> None:
    amy, zed = Claim(NOON, "amy"), Claim(NOON, "zed")
    assert zed.supersedes(amy)
    assert not amy.supersedes(zed)


def test_a_claim_does_not_supersede_itself() -> None:
    assert not Claim(NOON, "amy").supersedes(Claim(NOON, "amy"))


def test_times_in_other_zones_compare_as_the_same_instant() -> None:
    elsewhere = NOON.astimezone(datetime.now().astimezone().tzinfo)
    assert not Claim(elsewhere, "amy").supersedes(Claim(NOON, "amy"))


def test_an_identity_claims_its_login_at_the_time_auth_stored_it() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    assert identity.claim == Claim(NOON, "amy")


def test_of_several_activities_each_user_keeps_only_their_latest() -> None:
    later = NOON + timedelta(minutes=5)
    activity = [("amy", later), ("zed", NOON), ("amy", NOON), ("amy", later)]
    assert latest_activity(activity) == {"amy": later, "zed": NOON}


def test_only_a_newer_identity_replaces_the_recorded_one() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    assert identity.is_newer_than(NOON - timedelta(microseconds=1))
    assert not identity.is_newer_than(NOON)
    assert not identity.is_newer_than(NOON + timedelta(minutes=1))


def test_the_profile_shows_the_login_only_while_its_user_holds_it() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    assert identity.username_given("amy") == "amy-gh"
    assert identity.username_given("zed") is None


def test_a_github_account_nobody_holds_or_the_user_holds_already_is_theirs() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    assert decide_github_account(identity, None) == GitHubAccountDecision(42)
    earlier_self = Claim(NOON - timedelta(days=1), "amy")
    assert decide_github_account(identity, earlier_self) == GitHubAccountDecision(42)


def test_a_newer_identity_takes_the_github_account_from_an_older_profile() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    older = Claim(NOON - timedelta(seconds=1), "zed")
    assert decide_github_account(identity, older) == GitHubAccountDecision(42, taken_from="zed")


def test_an_older_identity_goes_without_the_github_account_a_newer_profile_holds() -> None:
    identity = GitHubIdentity("amy", 42, "amy-gh", NOON)
    newer = Claim(NOON + timedelta(seconds=1), "zed")
    assert decide_github_account(identity, newer) == GitHubAccountDecision(None)
    # At the same moment the user id decides, the same way on every replay.
    assert decide_github_account(identity, Claim(NOON, "zed")) == GitHubAccountDecision(None)
    assert decide_github_account(
        GitHubIdentity("zed", 42, "zed-gh", NOON), Claim(NOON, "amy")
    ) == GitHubAccountDecision(42, taken_from="amy")
