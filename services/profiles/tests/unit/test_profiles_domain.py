"""The newest-claim-wins rule that decides who holds a login or GitHub account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codeflow_profiles.profiles.domain import Claim, GitHubIdentity, latest_activity

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
