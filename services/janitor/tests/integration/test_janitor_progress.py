"""A deletion's progress, read by its id alone: the person asked to be erased and has no
session left. A request that names its deletion is recorded under that id, once however
often it arrives; the progress says how far the erasure is and nothing about the person.
"""

from __future__ import annotations

import uuid

import pytest
from janitor_support import StartJanitor, ago, new_user_id, wait_until_handled

from codeflow_contracts import UserDeletionRequested, new_envelope
from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration

NOBODY: dict[str, str] = {}


def progress_of(deletion_id: uuid.UUID) -> str:
    return f"/janitor/deletions/{deletion_id}/progress"


def done(body: dict[str, object]) -> dict[object, object]:
    services = body["services"]
    assert isinstance(services, list)
    return {entry["service"]: entry["done"] for entry in services}


async def test_a_requested_deletion_is_recorded_under_the_id_auth_gave_the_person(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()
    user, deletion_id = new_user_id(), uuid.uuid4()
    await janitor.sign_up(user, at=ago(seconds=0))

    await janitor.publish(
        UserDeletionRequested(user_id=user, requested_at=ago(seconds=0), deletion_id=deletion_id)
    )

    [command] = await janitor.wait_for_commands(user)
    assert command.data.deletion_id == deletion_id
    [deletion] = await janitor.deletions_of(user)
    assert (deletion.deletion_id, deletion.reason) == (deletion_id, "requested")


async def test_the_progress_is_read_without_a_token_and_follows_each_acknowledgement(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()
    user, deletion_id = new_user_id(), uuid.uuid4()
    await janitor.publish(
        UserDeletionRequested(user_id=user, requested_at=ago(seconds=0), deletion_id=deletion_id)
    )
    [command] = await janitor.wait_for_commands(user)

    asked = await janitor.get(progress_of(deletion_id), NOBODY)
    assert asked.status_code == 200
    assert asked.headers["cache-control"] == "no-store"
    assert asked.json() == {
        "status": "pending",
        "services": [
            {"service": "auth", "done": False},
            {"service": "profiles", "done": False},
            {"service": "repositories", "done": False},
        ],
    }
    # Nothing in it says whose deletion it is.
    assert user not in asked.text

    await janitor.ack(command, "auth", "repositories")

    async def two_done() -> bool:
        body = (await janitor.get(progress_of(deletion_id), NOBODY)).json()
        return sum(done(body).values()) == 2

    await wait_until(two_done, timeout=20, what="the progress to show two acknowledgements")
    partway = (await janitor.get(progress_of(deletion_id), NOBODY)).json()
    assert partway["status"] == "pending"
    assert done(partway) == {"auth": True, "profiles": False, "repositories": True}

    await janitor.ack(command, "profiles")
    await janitor.wait_for_completion(deletion_id)
    finished = (await janitor.get(progress_of(deletion_id), NOBODY)).json()
    assert finished["status"] == "complete"
    assert set(done(finished).values()) == {True}


async def test_an_unknown_id_is_a_404_problem_the_page_polls_again(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()

    unknown = await janitor.get(progress_of(uuid.uuid4()), NOBODY)
    not_an_id = await janitor.get("/janitor/deletions/not-a-uuid/progress", NOBODY)

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "urn:codeflow:problem:deletion-not-found"
    assert unknown.headers["cache-control"] == "no-store"
    assert not_an_id.status_code == 422


async def test_a_replayed_request_keeps_one_deletion_and_one_command(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor()
    user, deletion_id = new_user_id(), uuid.uuid4()
    request = UserDeletionRequested(
        user_id=user, requested_at=ago(seconds=0), deletion_id=deletion_id
    )
    first = new_envelope(request, source="codeflow/auth")
    await janitor.publish_envelope(first)
    [command] = await janitor.wait_for_commands(user)
    await janitor.ack(command)
    await janitor.wait_for_completion(deletion_id)

    # The same envelope again, and the same request in a new one (an outbox sending twice).
    await janitor.publish_envelope(first)
    again = await janitor.publish(request)
    await wait_until_handled(janitor, [first.id, again.id])

    [deletion] = await janitor.deletions_of(user)
    assert deletion.deletion_id == deletion_id
    assert len(await janitor.commands_for(user)) == 1
    assert (await janitor.get(progress_of(deletion_id), NOBODY)).json()["status"] == "complete"


async def test_a_cancelled_erasure_reads_cancelled(start_janitor: StartJanitor) -> None:
    janitor = await start_janitor(inactive_after="P1D")
    user = await janitor.recorded_user(signed_up_at=ago(days=3))
    await janitor.sweep()
    [command] = await janitor.wait_for_commands(user)
    await janitor.cancel(command, active_at=ago(minutes=1))
    await janitor.wait_for_cancellation(command.data.deletion_id)

    body = (await janitor.get(progress_of(command.data.deletion_id), NOBODY)).json()

    assert body["status"] == "cancelled"
    assert set(done(body).values()) == {False}


async def test_a_request_that_finds_an_erasure_in_flight_follows_that_one_by_its_own_id(
    start_janitor: StartJanitor,
) -> None:
    # The sweep chose the person while auth was slow; they came back, and asked to leave
    # before auth acted on the sweep's command. That erasure goes ahead (auth never cancels
    # one for someone who asked to leave): their id must show its progress.
    janitor = await start_janitor(inactive_after="P1D")
    user, asked_as = new_user_id(), uuid.uuid4()
    await janitor.sign_up(user, at=ago(days=3))
    await janitor.wait_for_activity(user)
    await janitor.sweep()
    [command] = await janitor.wait_for_commands(user)
    request = await janitor.publish(
        UserDeletionRequested(user_id=user, requested_at=ago(seconds=0), deletion_id=asked_as)
    )
    await wait_until_handled(janitor, [request.id])

    assert [d.deletion_id for d in await janitor.deletions_of(user)] == [command.data.deletion_id]
    assert (await janitor.get(progress_of(asked_as), NOBODY)).json()["status"] == "pending"

    await janitor.publish(request.data)  # a replay changes nothing
    await janitor.ack(command)
    await janitor.wait_for_completion(command.data.deletion_id)
    assert (await janitor.get(progress_of(asked_as), NOBODY)).json()["status"] == "complete"
    assert len(await janitor.commands_for(user)) == 1
