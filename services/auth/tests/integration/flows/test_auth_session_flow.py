from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from auth_flow_support import (
    ACTIVE,
    SESSION_COOKIE,
    assert_signed_out_for_good,
    csrf_header,
    csrf_token,
    delete_account,
    execute,
    outbox_drained,
    scalar,
    sign_in,
    signed_in_browser,
    types,
    user_events,
    verify,
)

from codeflow_contracts import DeleteUserData, DeletionReason, Envelope, new_envelope, to_json_bytes
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_identity import InvalidToken, JwksVerifier
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DELETED = "codeflow.user.deleted.v1"
CANCELLED = "codeflow.user.deletion-cancelled.v1"


async def test_verify_answers_a_valid_cookie_with_a_jwt_that_verifies_against_the_jwks(
    auth,
) -> None:
    async with auth.browser() as browser:
        user_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
        verified = await verify(browser, auth.url)
    assert verified.status_code == 200
    assert verified.headers["x-user-id"] == user_id
    token = verified.headers["x-auth-token"]
    async with JwksVerifier(
        f"{auth.url}/auth/.well-known/jwks.json",
        issuer=auth.settings.issuer,
        audience="codeflow-profiles",
    ) as verifier:
        identity = await verifier.verify(token)
        assert identity.user_id == user_id
        assert identity.login == "octocat"
        assert identity.expires_at - datetime.now(UTC) <= timedelta(minutes=5)
        with pytest.raises(InvalidToken):
            await verifier.verify(token[:-4] + "AAAA")


async def test_verify_refuses_a_request_without_a_session_or_with_a_made_up_one(
    auth,
) -> None:
    async with auth.browser() as browser:
        assert (await verify(browser, auth.url)).status_code == 401
        browser.cookies.set(SESSION_COOKIE, "made-up-token")
        refused = await verify(browser, auth.url)
    assert refused.status_code == 401
    assert "x-user-id" not in refused.headers


async def test_an_expired_session_gets_401_and_its_row_is_deleted(auth) -> None:
    async with signed_in_browser(auth) as browser:
        await execute(
            auth.sessions,
            "UPDATE sessions SET expires = now() AT TIME ZONE 'UTC' - interval '1 minute'",
        )
        refused = await verify(browser, auth.url)
    assert refused.status_code == 401
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 0


async def signed_in_without_activity(browser, auth) -> str:
    """Sign in landing somewhere that is not itself activity (the CSRF token); the user's id."""
    await sign_in(browser, auth.url, callbackUrl="/auth/csrf")
    user_id: str = await scalar(auth.sessions, "SELECT id FROM users")
    return user_id


async def activity_published(auth, bootstrap_servers: str, user_id: str) -> int:
    """How many UserActive events about ``user_id`` auth published, once its outbox is drained."""
    await outbox_drained(auth.sessions)
    return types(await user_events(bootstrap_servers, user_id)).count(ACTIVE)


async def test_a_hundred_verify_calls_within_the_hour_emit_exactly_one_user_active(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        user_id = await signed_in_without_activity(browser, auth)
        # Then verify a hundred times at once.
        answers = await asyncio.gather(*(verify(browser, auth.url) for _ in range(100)))
    assert {a.status_code for a in answers} == {200}
    assert await activity_published(auth, kafka_bootstrap_servers, user_id) == 1


async def test_activity_is_emitted_again_once_the_interval_has_passed(
    start_auth, kafka_bootstrap_servers: str
) -> None:
    auth = await start_auth(activity_interval=timedelta(seconds=1))
    async with auth.browser() as browser:
        user_id = await signed_in_without_activity(browser, auth)
        await verify(browser, auth.url)
        await asyncio.sleep(1.2)
        await verify(browser, auth.url)
    assert await activity_published(auth, kafka_bootstrap_servers, user_id) == 2


async def test_sign_out_needs_the_csrf_token_then_ends_the_session_on_the_server(
    auth,
) -> None:
    async with signed_in_browser(auth) as browser:
        old_cookie = browser.cookies[SESSION_COOKIE]
        without_token = await browser.post(f"{auth.url}/auth/signout")
        assert without_token.status_code == 403
        csrf = await csrf_token(browser, auth.url)
        from_elsewhere = await browser.post(
            f"{auth.url}/auth/signout",
            data={"csrfToken": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert from_elsewhere.status_code == 403
        signed_out = await browser.post(f"{auth.url}/auth/signout", data={"csrfToken": csrf})
        assert signed_out.status_code == 204
        await assert_signed_out_for_good(browser, auth.url, auth.sessions, old_cookie)


async def test_signing_out_everywhere_ends_every_session_of_the_user(auth) -> None:
    async with auth.browser() as laptop, auth.browser() as phone:
        await sign_in(laptop, auth.url)
        await sign_in(phone, auth.url)
        response = await laptop.post(
            f"{auth.url}/auth/signout/everywhere", headers=await csrf_header(laptop, auth.url)
        )
        assert response.status_code == 204
        assert (await verify(phone, auth.url)).status_code == 401
    assert await scalar(auth.sessions, "SELECT count(*) FROM sessions") == 0


async def test_deleting_my_account_ends_my_sessions_and_sends_on_the_id_i_follow_it_by(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        user_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
        response = await delete_account(browser, auth.url)
        assert response.status_code == 202
        assert (await verify(browser, auth.url)).status_code == 401
    body = response.json()
    deletion_id = uuid.UUID(body["deletionId"])
    assert deletion_id.version == 4
    assert body == {
        "status": "deletion requested",
        "userId": user_id,
        "deletionId": str(deletion_id),
        "progress": f"/api/janitor/deletions/{deletion_id}/progress",
    }
    await outbox_drained(auth.sessions)
    [requested] = [
        event
        for event in await user_events(kafka_bootstrap_servers, user_id)
        if event.type == "codeflow.user.deletion-requested.v1"
    ]
    assert requested.data.deletion_id == deletion_id


async def send_commands(
    bootstrap_servers: str, user_id: str, *commands: Envelope[DeleteUserData]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        for command in commands:
            await producer.send_and_wait(
                USER_DELETION_COMMANDS, to_json_bytes(command), key=user_id.encode()
            )
    finally:
        await producer.stop()


def delete_command(user_id: str, reason: DeletionReason) -> Envelope[DeleteUserData]:
    now = datetime.now(UTC)
    return new_envelope(
        DeleteUserData(
            deletion_id=uuid.uuid4(),
            user_id=user_id,
            reason=reason,
            requested_at=now,
            inactive_since=now - timedelta(days=90) if reason == "inactive" else None,
        ),
        source="codeflow/janitor",
    )


async def test_delete_user_data_removes_the_user_and_tokens_and_a_repeated_command_is_harmless(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        user_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
    email = await scalar(auth.sessions, "SELECT email FROM users")
    await execute(
        auth.sessions,
        "INSERT INTO verification_tokens (identifier, token, expires) "
        "VALUES (:email, 'tok', now() + interval '1 day')",
        email=email,
    )
    command = delete_command(user_id, "requested")
    # Twice: a redelivered command must be harmless.
    await send_commands(kafka_bootstrap_servers, user_id, command, command)

    async def gone() -> bool:
        return await scalar(auth.sessions, "SELECT count(*) FROM users") == 0

    await wait_until(gone, timeout=60, what="auth to delete the user")
    for table in ("accounts", "sessions", "verification_tokens"):
        assert await scalar(auth.sessions, f"SELECT count(*) FROM {table}") == 0  # noqa: S608
    await outbox_drained(auth.sessions)
    answers = [
        e
        for e in await user_events(kafka_bootstrap_servers, user_id)
        if e.type == DELETED and e.data.deletion_id == command.data.deletion_id
    ]
    assert len(answers) == 1  # the duplicate command was dropped by the inbox
    assert answers[0].data.reason == "requested"


async def test_an_erasure_for_inactivity_arriving_after_a_sign_in_is_cancelled(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        user_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
        command = delete_command(user_id, "inactive")
        await send_commands(kafka_bootstrap_servers, user_id, command)

        async def answered() -> bool:
            queued = await scalar(
                auth.sessions,
                "SELECT count(*) FROM outbox WHERE message_type = :type",
                type=CANCELLED,
            )
            return bool(queued == 1)

        await wait_until(answered, timeout=60, what="auth to answer the erasure")
        still_signed_in = await verify(browser, auth.url)
    assert still_signed_in.status_code == 200
    await outbox_drained(auth.sessions)
    events = await user_events(kafka_bootstrap_servers, user_id)
    # In the user's own order: created, active (the sign-in), then the cancellation.
    assert types(events)[-1] == CANCELLED
    assert DELETED not in types(events)
    assert events[-1].data.deletion_id == command.data.deletion_id


async def test_the_service_says_it_is_alive_and_ready_when_its_database_and_kafka_answer(
    auth,
) -> None:
    async with auth.browser() as client:
        assert (await client.get(f"{auth.url}/healthz")).json() == {"status": "ok"}
        ready = await client.get(f"{auth.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "kafka": "ok"}


async def test_signing_in_again_while_the_deletion_is_in_flight_gives_a_fresh_account(
    auth, kafka_bootstrap_servers: str
) -> None:
    async with auth.browser() as browser:
        old_id = (await sign_in(browser, auth.url)).json()["user"]["id"]
        assert (await delete_account(browser, auth.url)).status_code == 202
        again = await sign_in(browser, auth.url)
    new_id = again.json()["user"]["id"]
    assert again.status_code == 200
    assert new_id != old_id
    assert again.json()["user"]["email"] == "octocat@github.com"
    # The old row waits for the janitor as a tombstone: nothing identifies the person.
    assert (
        await scalar(
            auth.sessions,
            "SELECT count(*) FROM users WHERE id = :id AND email IS NULL AND login IS NULL",
            id=old_id,
        )
        == 1
    )
    assert (
        await scalar(auth.sessions, "SELECT count(*) FROM accounts WHERE user_id = :id", id=old_id)
        == 0
    )
    await outbox_drained(auth.sessions)
    assert "codeflow.user.created.v1" in types(await user_events(kafka_bootstrap_servers, new_id))


async def test_the_asyncapi_document_lists_what_auth_consumes_and_publishes(auth) -> None:
    async with auth.browser() as client:
        document = (await client.get(f"{auth.url}/auth/asyncapi.json")).json()
    assert document["asyncapi"].startswith("3.")
    payloads = str(document["components"]["schemas"])
    for message_type in (
        "codeflow.user.delete-data.v1",
        "codeflow.user.created.v1",
        "codeflow.user.active.v1",
        "codeflow.user.deleted.v1",
        "codeflow.user.deletion-cancelled.v1",
    ):
        assert message_type in payloads
    assert set(document["channels"]) >= {
        "auth:janitor.user-deletion-commands",
        "auth:auth.user-events",
    }


async def test_verify_slides_the_expiry_at_most_once_per_update_age(auth) -> None:
    days_left = (
        "SELECT extract(epoch FROM expires - (now() AT TIME ZONE 'UTC')) / 86400 FROM sessions"
    )

    async def set_days_left(days: float) -> None:
        await execute(
            auth.sessions,
            "UPDATE sessions SET expires = (now() AT TIME ZONE 'UTC') + :d * interval '1 day'",
            d=days,
        )

    async with signed_in_browser(auth) as browser:
        # Written less than a day ago (6.5 of 7 idle days left): not due, left as it is.
        await set_days_left(6.5)
        assert (await verify(browser, auth.url)).status_code == 200
        assert abs(float(await scalar(auth.sessions, days_left)) - 6.5) < 0.01
        # Written two days ago: due, so it slides back to the full 7 days.
        await set_days_left(5)
        assert (await verify(browser, auth.url)).status_code == 200
        assert abs(float(await scalar(auth.sessions, days_left)) - 7) < 0.01
