"""The sweep, with the real Kafka: an inactive user's deletion is issued and completes once
auth, profiles and repositories acknowledge; active users are left alone; a sweep issues
each deletion once, at most ``max_deletions_per_sweep`` at a time, and also runs on a schedule.
"""

from __future__ import annotations

import logging

import pytest
from janitor_support import StartJanitor, ago, new_user_id

from codeflow_contracts import DeleteUserData
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_an_inactive_user_is_deleted_once_every_service_acknowledges(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="PT3S")
    idle = await janitor.new_user(signed_up_at=ago(hours=2))
    await janitor.active(idle, at=ago(hours=1))
    await janitor.wait_for_activity(idle)

    swept = await janitor.sweep()

    assert swept.status_code == 200, swept.text
    report = swept.json()
    assert (report["outcome"], report["candidates"], report["issued"]) == ("issued", 1, 1)
    [command] = await janitor.wait_for_commands(idle)
    assert isinstance(command.data, DeleteUserData)
    assert command.data.reason == "inactive"
    assert command.source == "codeflow/janitor"
    assert [str(command.data.deletion_id)] == report["deletion_ids"]

    await janitor.ack(command)
    deletion = await janitor.wait_for_completion(command.data.deletion_id)

    assert deletion.unacknowledged == ()
    assert await janitor.activity(idle) is None
    shown = await janitor.get(f"/janitor/deletions/{command.data.deletion_id}")
    assert shown.json()["status"] == "complete"
    assert shown.json()["user_id"] == idle


async def test_a_user_active_within_the_threshold_is_left_alone(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(inactive_after="PT3S")
    idle, active, newcomer = new_user_id(), new_user_id(), new_user_id()
    await janitor.sign_up(idle, at=ago(days=200))
    await janitor.sign_up(active, at=ago(days=200))
    await janitor.active(active, at=ago(seconds=0))
    await janitor.sign_up(newcomer, at=ago(seconds=0))
    await janitor.wait_for_activity(idle, active, newcomer)

    report = (await janitor.sweep()).json()

    assert (report["known_users"], report["candidates"], report["issued"]) == (3, 1, 1)
    await janitor.wait_for_commands(idle)
    assert await janitor.commands_for(active) == []
    assert await janitor.commands_for(newcomer) == []
    assert await janitor.deletions_of(active) == []
    kept = await janitor.activity(active)
    assert kept is not None
    assert kept.first_seen_at < kept.last_active_at


async def test_sweeping_again_issues_nothing_new(start_janitor: StartJanitor) -> None:
    janitor = await start_janitor()
    idle = await janitor.recorded_user(signed_up_at=ago(days=100))
    first = (await janitor.sweep()).json()
    await janitor.wait_for_commands(idle)

    again = (await janitor.sweep()).json()

    assert first["issued"] == 1
    assert (again["candidates"], again["already_pending"], again["issued"]) == (0, 1, 0)
    assert len(await janitor.deletions_of(idle)) == 1
    assert len(await janitor.commands_for(idle)) == 1


async def test_a_sweep_issues_at_most_its_limit_and_leaves_the_rest_for_the_next(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(max_deletions_per_sweep=2)
    users = [new_user_id() for _ in range(3)]
    for days, user in enumerate(users):
        await janitor.sign_up(user, at=ago(days=300 - days))
    await janitor.wait_for_activity(*users)

    first = (await janitor.sweep()).json()
    second = (await janitor.sweep()).json()

    assert (first["candidates"], first["issued"], first["skipped"]) == (3, 2, 1)
    assert (second["candidates"], second["issued"], second["skipped"]) == (1, 1, 0)
    # Longest idle first: the user seen last is the one the first sweep left.
    assert [len(await janitor.deletions_of(u)) for u in users] == [1, 1, 1]
    [left_for_later] = await janitor.deletions_of(users[2])
    assert second["deletion_ids"] == [str(left_for_later.deletion_id)]


async def test_the_scheduled_sweep_deletes_a_user_once_they_pass_the_threshold(
    start_janitor: StartJanitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.janitor.sweeps")
    janitor = await start_janitor(inactive_after="PT2S", sweep_interval=0.5)
    user = await janitor.recorded_user(signed_up_at=ago(seconds=0))
    assert await janitor.deletions_of(user) == []

    async def deleted() -> bool:
        return len(await janitor.deletions_of(user)) == 1

    await wait_until(deleted, timeout=10, what="the scheduled sweep to issue the deletion")
    [command] = await janitor.wait_for_commands(user)
    assert command.data.reason == "inactive"
    logged = [r.getMessage() for r in caplog.records if r.name == "codeflow.janitor.sweeps"]
    assert any(
        "1 candidate(s)" in line and "1 deletion(s) issued, 0 skipped" in line for line in logged
    )
