"""The relay is woken by the writers' NOTIFY: a committed row goes out at once, far sooner
than the fallback poll; the poll still publishes a row nobody announced; the listening
connection comes back after it is killed; and a burst of rows goes out in order."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from messaging_support import activity, pending, sequence_number, wait_drained, write_to_outbox
from sqlalchemy import text

from codeflow_contracts import parse_envelope, to_json_bytes
from codeflow_messaging import OutboxRelay, SessionFactory, transaction
from codeflow_messaging.outbox_notifications import LISTENER_NAME
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

FAR_OFF = 30.0
"""A fallback poll far longer than any wait below: only a notification explains a row
published within them."""

SOON = 5.0

_LISTENERS = text(
    "SELECT pid FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = :name"
)


async def listener_pids(sessions: SessionFactory) -> set[int]:
    async with sessions() as session:
        return set((await session.scalars(_LISTENERS, {"name": LISTENER_NAME})).all())


async def wait_listening(sessions: SessionFactory, *, besides: set[int] | None = None) -> int:
    """Wait until the relay's listening connection is up (another than ``besides``); its pid."""

    async def listening() -> bool:
        return bool(await listener_pids(sessions) - (besides or set()))

    await wait_until(listening, timeout=SOON * 2, what="the relay's listening connection")
    return next(iter(await listener_pids(sessions) - (besides or set())))


@pytest.fixture
async def listener_pid(start_relay: Callable[..., OutboxRelay], sessions: SessionFactory) -> int:
    """Start a relay whose poll is far off; once it listens, its listening connection's pid."""
    start_relay(poll_interval=FAR_OFF)
    return await wait_listening(sessions)


async def test_a_committed_row_is_published_at_once_though_the_fallback_poll_is_far_off(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    listener_pid: int,
) -> None:
    message = activity("u1", 1)

    await write_to_outbox(sessions, [message], topic=topic)

    await wait_drained(sessions, "the notified row to be published", timeout=SOON)
    records = await read_topic(kafka_bootstrap_servers, topic)
    assert [str(parse_envelope(r.value).id) for r in records] == [str(message.id)]


async def test_a_row_written_without_a_notification_is_published_by_the_fallback_poll(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    start_relay: Callable[..., OutboxRelay],
) -> None:
    start_relay(poll_interval=1.0)
    await wait_listening(sessions)
    message = activity("u1", 1)

    async with transaction(sessions) as session:  # by hand: no NOTIFY
        await session.execute(
            text(
                "INSERT INTO outbox (message_id, topic, key, message_type, payload) "
                "VALUES (:id, :topic, 'u1', :type, CAST(:payload AS jsonb))"
            ),
            {
                "id": message.id,
                "topic": topic,
                "type": message.type,
                "payload": to_json_bytes(message).decode(),
            },
        )

    await wait_drained(sessions, "the fallback poll to publish the row", timeout=SOON * 2)
    assert len(await read_topic(kafka_bootstrap_servers, topic)) == 1


async def test_a_killed_listening_connection_comes_back_and_catches_up_on_what_it_missed(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    listener_pid: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeflow.outbox")
    killed = listener_pid

    async with transaction(sessions) as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    await write_to_outbox(sessions, [activity("u1", 1)], topic=topic)

    # Back, the listener wakes the relay for what was committed while nobody listened.
    await wait_listening(sessions, besides={killed})
    await wait_drained(sessions, "the row written while the listener was down", timeout=SOON)
    await write_to_outbox(sessions, [activity("u1", 2)], topic=topic)
    await wait_drained(sessions, "the row written once listening again", timeout=SOON)
    assert len(await read_topic(kafka_bootstrap_servers, topic)) == 2
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if "not listening for new outbox rows" in m]) == 1
    assert len([m for m in said if "listening for new outbox rows again" in m]) == 1


async def test_a_burst_of_committed_rows_is_published_soon_and_in_order_per_key(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    listener_pid: int,
) -> None:
    burst = [activity(f"u{n % 5}", n) for n in range(100)]

    await write_to_outbox(sessions, burst, topic=topic)

    await wait_drained(sessions, "the burst to be published", timeout=SOON * 2)
    assert await pending(sessions) == 0
    records = await read_topic(kafka_bootstrap_servers, topic)
    published = [parse_envelope(r.value) for r in records]
    assert sorted(str(e.id) for e in published) == sorted(str(e.id) for e in burst)
    by_user: dict[str, list[tuple[int, int, int]]] = {}
    for record, envelope in zip(records, published, strict=True):
        by_user.setdefault(envelope.subject or "", []).append(
            (record.partition, record.offset, sequence_number(envelope.data.active_at))
        )
    for user, seen in by_user.items():
        in_offset_order = [n for _, _, n in sorted(seen)]
        assert in_offset_order == sorted(in_offset_order), f"{user}'s messages out of order"
