"""The deletion saga around the sweep: self-service requests, re-sending commands auth has
not answered, and replayed or late messages that must not change the outcome.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from janitor_support import StartJanitor, ago, new_user_id

from codeflow_contracts import UserDeletionRequested
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_a_deletion_request_issues_a_requested_deletion_at_once(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P90D")
    user = await janitor.new_user(signed_up_at=ago(seconds=0))
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


async def test_a_command_auth_does_not_answer_is_sent_again_as_itself_until_it_does(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(ack_timeout=1, resend_check_interval=0.2)
    user = new_user_id()
    await janitor.publish(UserDeletionRequested(user_id=user, requested_at=ago(seconds=0)))
    first = (await janitor.wait_for_commands(user))[0]  # auth is down

    first_again, second = (await janitor.wait_for_commands(user, count=2))[:2]

    assert first_again.id == first.id
    # The same message: an inbox that handled the first drops the copy.
    assert second.id == first.id
    assert second.data == first.data
    overdue = (await janitor.get("/janitor/deletions?status=overdue")).json()
    assert overdue["counts"]["overdue"] == 1
    assert [item["deletion_id"] for item in overdue["items"]] == [str(first.data.deletion_id)]
    assert overdue["items"][0]["acknowledged"]["auth"] is None

    await janitor.ack(second)  # auth is back, and so are the others
    deletion = await janitor.wait_for_completion(first.data.deletion_id)

    assert deletion.attempts >= 2
    summary = (await janitor.get("/janitor/deletions")).json()
    assert summary["counts"] == {"pending": 0, "complete": 1, "cancelled": 0, "overdue": 0}
    # Once complete, nothing is sent again: wait out more than one timeout and look.
    sent = len(await janitor.commands_for(user))
    await asyncio.sleep(1.5)
    assert len(await janitor.commands_for(user)) == sent
    assert (await janitor.deletion(deletion.deletion_id)).attempts == deletion.attempts


async def test_an_erasure_auth_cancels_ends_cancelled_with_the_reason_and_activity_counts_again(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="P1D")
    user = await janitor.recorded_user(signed_up_at=ago(days=3))
    sweep = (await janitor.sweep()).json()
    [command] = await janitor.wait_for_commands(user)
    assert command.data.reason == "inactive"
    assert command.data.inactive_since == datetime.fromisoformat(sweep["cutoff"])

    came_back = ago(minutes=1)
    await janitor.cancel(command, active_at=came_back)  # auth: they signed in meanwhile
    deletion = await janitor.wait_for_cancellation(command.data.deletion_id)

    assert deletion.completed_at is None
    assert deletion.cancellation is not None
    assert came_back.isoformat() in deletion.cancellation
    view = (await janitor.get(f"/janitor/deletions/{deletion.deletion_id}")).json()
    assert (view["status"], view["cancellation"]) == ("cancelled", deletion.cancellation)
    activity = await janitor.activity(user)
    assert activity is not None
    assert activity.last_active_at == came_back
    # They are a person like any other again: their activity counts, and a sweep that finds
    # them idle once more issues a new deletion.
    later = ago(seconds=30)
    await janitor.active(user, at=later)

    async def moved() -> bool:
        recorded = await janitor.activity(user)
        return recorded is not None and recorded.last_active_at == later

    await wait_until(moved, timeout=20, what="activity after the cancellation to count")
    assert (await janitor.sweep()).json()["candidates"] == 0
