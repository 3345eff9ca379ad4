"""Rebuilding the activity projection from auth: ``UserRestated`` puts back users whose events
were lost, with the activity auth recorded, and never an erased one."""

from __future__ import annotations

import pytest
from janitor_support import StartJanitor, ago, new_user_id

from codeflow_contracts import UserDeletionRequested, UserRestated
from codeflow_contracts.topics import USER_EVENTS
from codeflow_testing.kafka import group_lag
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_restated_users_are_tracked_again_with_the_activity_auth_recorded(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P90D")
    lost, never_seen, erased = new_user_id(), new_user_id(), new_user_id()
    await janitor.publish(UserDeletionRequested(user_id=erased, requested_at=ago(seconds=0)))
    [command] = await janitor.wait_for_commands(erased)
    await janitor.ack(command)
    await janitor.wait_for_completion(command.data.deletion_id)

    last_seen, restated_at = ago(days=12), ago(seconds=1)
    for user, last_active_at in ((lost, last_seen), (never_seen, None), (erased, last_seen)):
        await janitor.publish(
            UserRestated(
                user_id=user,
                github_id=42,
                login="someone",
                last_active_at=last_active_at,
                restated_at=restated_at,
            )
        )
    await janitor.wait_for_activity(lost, never_seen)

    async def caught_up() -> bool:
        settings = janitor.settings
        lag = await group_lag(
            settings.kafka_bootstrap_servers, settings.consumer_group, [USER_EVENTS]
        )
        return lag == 0

    await wait_until(caught_up, timeout=30, what="the janitor to handle every restatement")

    lost_row, never_seen_row = await janitor.activity(lost), await janitor.activity(never_seen)
    assert lost_row is not None
    assert lost_row.last_active_at == last_seen
    # Auth recorded no activity: counted as seen now, so nobody looks idler than they are.
    assert never_seen_row is not None
    assert never_seen_row.last_active_at == restated_at
    assert await janitor.activity(erased) is None
