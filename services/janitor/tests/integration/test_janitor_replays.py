"""Duplicate, replayed and late messages leave the janitor's state as one delivery would,
and a deleted user id stays deleted while a returning person's new id starts fresh.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from janitor_support import StartJanitor, ago, new_user_id, wait_until_handled

from codeflow_contracts import (
    UserActive,
    UserCreated,
    UserDataDeleted,
    UserDeletionRequested,
    new_envelope,
)

pytestmark = pytest.mark.integration


async def test_replayed_activity_is_applied_once_and_never_moves_back(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P30D")
    user = new_user_id()
    created, latest = ago(days=10), ago(days=5)
    signed_up = new_envelope(
        UserCreated(user_id=user, github_id=7, login="octo", created_at=created),
        source="codeflow/auth",
    )
    seen = new_envelope(UserActive(user_id=user, active_at=latest), source="codeflow/auth")
    for envelope in (signed_up, seen, signed_up, seen):
        await janitor.publish_envelope(envelope)
    older = await janitor.active(user, at=ago(days=8))  # a late copy, with a new id
    await wait_until_handled(janitor, [signed_up.id, seen.id, older.id])

    activity = await janitor.activity(user)

    assert activity is not None
    assert abs(activity.first_seen_at - created) < timedelta(milliseconds=1)
    assert abs(activity.last_active_at - latest) < timedelta(milliseconds=1)


async def test_duplicate_requests_and_acknowledgements_complete_one_deletion(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()
    user = await janitor.new_user(signed_up_at=ago(seconds=0))
    request = new_envelope(
        UserDeletionRequested(user_id=user, requested_at=ago(seconds=0)), source="codeflow/auth"
    )
    await janitor.publish_envelope(request)
    await janitor.publish_envelope(request)
    second_request = await janitor.publish(
        UserDeletionRequested(user_id=user, requested_at=ago(seconds=0))
    )
    await wait_until_handled(janitor, [request.id, second_request.id])
    [command] = await janitor.wait_for_commands(user)
    auth_ack = new_envelope(
        UserDataDeleted(
            user_id=user,
            deletion_id=command.data.deletion_id,
            service="auth",
            deleted_at=ago(seconds=30),
        ),
        source="codeflow/auth",
    )
    await janitor.publish_envelope(auth_ack)
    await janitor.ack(command)  # every service, auth a second time with a later time
    await janitor.publish_envelope(auth_ack)
    deletion = await janitor.wait_for_completion(command.data.deletion_id)

    assert len(await janitor.deletions_of(user)) == 1
    assert deletion.auth_acked_at is not None
    assert abs(deletion.auth_acked_at - auth_ack.data.deleted_at) < timedelta(milliseconds=1)
    assert len(await janitor.commands_for(user)) == 1


async def test_a_deleted_user_id_stays_deleted_and_a_returning_user_starts_fresh(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P30D")
    old_id = await janitor.recorded_user(signed_up_at=ago(days=100))
    [issued] = (await janitor.sweep()).json()["deletion_ids"]
    [command] = await janitor.wait_for_commands(old_id)

    # The person signs in again while the deletion is in flight: auth gives them a new id.
    new_id = new_user_id()
    returned = await janitor.sign_up(new_id, at=ago(seconds=0))
    # Late news about the old id, before and after the deletion completes.
    late_before = await janitor.active(old_id, at=ago(seconds=0))
    await janitor.ack(command)
    await janitor.wait_for_completion(command.data.deletion_id)
    late_after = await janitor.active(old_id, at=ago(seconds=0))
    replayed_signup = await janitor.sign_up(old_id, at=ago(days=100))
    asked_again = await janitor.publish(
        UserDeletionRequested(user_id=old_id, requested_at=ago(seconds=0))
    )
    unknown_ack = await janitor.publish(
        UserDataDeleted(
            user_id=old_id, deletion_id=uuid.uuid4(), service="profiles", deleted_at=ago(seconds=0)
        ),
        source="codeflow/profiles",
    )
    await wait_until_handled(
        janitor,
        [
            returned.id,
            late_before.id,
            late_after.id,
            replayed_signup.id,
            asked_again.id,
            unknown_ack.id,
        ],
    )

    assert await janitor.activity(old_id) is None
    assert [str(d.deletion_id) for d in await janitor.deletions_of(old_id)] == [issued]
    assert len(await janitor.commands_for(old_id)) == 1
    fresh = await janitor.activity(new_id)
    assert fresh is not None
    assert await janitor.deletions_of(new_id) == []
    again = (await janitor.sweep()).json()
    assert (again["known_users"], again["candidates"], again["issued"]) == (1, 0, 0)
