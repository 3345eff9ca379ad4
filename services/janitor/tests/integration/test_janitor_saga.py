"""The deletion saga around the sweep: self-service requests, re-sending commands a service
has not acknowledged, and replayed or late messages that must not change the outcome.
"""

from __future__ import annotations

import asyncio

import pytest
from janitor_support import StartJanitor, ago, new_user_id

from codeflow_contracts import UserDeletionRequested

pytestmark = pytest.mark.integration


async def test_a_deletion_request_issues_a_requested_deletion_at_once(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P90D")
    user = new_user_id()
    await janitor.sign_up(user, at=ago(seconds=0))
    await janitor.publish(UserDeletionRequested(user_id=user, requested_at=ago(seconds=0)))

    [command] = await janitor.wait_for_commands(user)

    assert command.data.reason == "requested"
    [deletion] = await janitor.deletions_of(user)
    assert (deletion.reason, deletion.deletion_id) == ("requested", command.data.deletion_id)
    own_view = await janitor.get(f"/janitor/deletions/{deletion.deletion_id}", janitor.user(user))
    assert own_view.status_code == 200
    assert own_view.json()["status"] == "pending"
    assert own_view.json()["acknowledged"] == {"auth": None, "profiles": None, "repositories": None}

    await janitor.ack(command)
    await janitor.wait_for_completion(deletion.deletion_id)
    assert await janitor.activity(user) is None


async def test_a_command_a_service_does_not_acknowledge_is_sent_again_until_it_does(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(ack_timeout=1, resend_check_interval=0.2)
    user = new_user_id()
    await janitor.publish(UserDeletionRequested(user_id=user, requested_at=ago(seconds=0)))
    # With a one-second timeout the command may have been sent again by the time the topic
    # has been read: the first one is the first.
    first = (await janitor.wait_for_commands(user))[0]
    await janitor.ack(first, "auth", "profiles")  # repositories is down

    first_again, second = (await janitor.wait_for_commands(user, count=2))[:2]

    assert first_again.id == first.id
    assert second.id != first.id
    assert second.data.deletion_id == first.data.deletion_id
    assert second.data.reason == first.data.reason
    overdue = (await janitor.get("/janitor/deletions?status=overdue")).json()
    assert overdue["counts"]["overdue"] == 1
    assert [item["deletion_id"] for item in overdue["items"]] == [str(first.data.deletion_id)]
    assert overdue["items"][0]["acknowledged"]["repositories"] is None

    await janitor.ack(second, "repositories")  # back, it handles the copy it was sent
    deletion = await janitor.wait_for_completion(first.data.deletion_id)

    assert deletion.attempts >= 2
    summary = (await janitor.get("/janitor/deletions")).json()
    assert summary["counts"] == {"pending": 0, "complete": 1, "overdue": 0}
    # Once complete, nothing is sent again: wait out more than one timeout and look.
    sent = len(await janitor.commands_for(user))
    await asyncio.sleep(1.5)
    assert len(await janitor.commands_for(user)) == sent
    assert (await janitor.deletion(deletion.deletion_id)).attempts == deletion.attempts
