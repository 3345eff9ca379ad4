"""Re-sending a command nobody answered: the same command each time, a bounded number of
times, further and further apart, so an outage of hours or days doesn't pile up commands
that every inbox would have to treat as new ones."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from codeflow_janitor.deletions.repository import Acknowledgement
from codeflow_janitor.deletions.service import (
    issue_deletion,
    record_acknowledgements,
    resend_unanswered,
)
from codeflow_janitor.models import Deletion
from codeflow_messaging import SessionFactory, transaction

pytestmark = pytest.mark.integration

START = datetime(2026, 6, 1, 12, tzinfo=UTC)
ACK_TIMEOUT = timedelta(hours=1)
MAX_SENDS = 6


async def commands_queued(sessions: SessionFactory) -> list[tuple[str, bool]]:
    """(envelope id, still pending) of every DeleteUserData in the outbox."""
    async with sessions() as s:
        rows = await s.execute(
            text(
                "SELECT payload, published_at IS NULL FROM outbox "
                "WHERE message_type = 'codeflow.user.delete-data.v1' ORDER BY id"
            )
        )
        return [(json.loads(json.dumps(payload))["id"], pending) for payload, pending in rows]


async def publish_everything(sessions: SessionFactory) -> None:
    """What the relay does with pending rows, without Kafka: mark them published."""
    async with transaction(sessions) as s:
        await s.execute(text("UPDATE outbox SET published_at = now() WHERE published_at IS NULL"))


async def issued(sessions: SessionFactory, user_id: str) -> Deletion:
    """A deletion ``user_id`` requested, issued at ``START`` and committed."""
    async with transaction(sessions) as s:
        deletion = await issue_deletion(s, user_id, "requested", now=START)
    assert deletion is not None
    return deletion


async def test_a_command_is_resent_as_itself_a_bounded_number_of_times_over_a_two_day_outage(
    janitor_sessions: SessionFactory,
) -> None:
    sessions = janitor_sessions
    deletion = await issued(sessions, "u-nobody-answers")
    [(command_id, _)] = await commands_queued(sessions)
    await publish_everything(sessions)

    sent_at: list[datetime] = []
    for hour in range(1, 49):  # the check runs every minute; an hour apart is enough here
        now = START + timedelta(hours=hour)
        async with transaction(sessions) as s:
            resent = await resend_unanswered(
                s, ack_timeout=ACK_TIMEOUT, now=now, max_sends=MAX_SENDS
            )
        if resent:
            sent_at.append(now)
        await publish_everything(sessions)

    ids = {envelope_id for envelope_id, _ in await commands_queued(sessions)}
    assert ids == {command_id}, "a re-sent command must keep the command's identity"
    assert 1 <= len(sent_at) <= MAX_SENDS - 1, f"re-sent {len(sent_at)} times in 48 hours"
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert gaps == sorted(gaps), "re-sends should come further apart, not closer"
    async with sessions() as s:
        stored = await s.get(Deletion, deletion.deletion_id)
    assert stored is not None
    assert stored.attempts == 1 + len(sent_at)


async def test_a_command_auth_has_answered_is_not_sent_again_while_others_are_late(
    janitor_sessions: SessionFactory,
) -> None:
    sessions = janitor_sessions
    deletion = await issued(sessions, "u-auth-answered")
    async with transaction(sessions) as s:
        await record_acknowledgements(
            s,
            [Acknowledgement(deletion.deletion_id, deletion.user_id, "auth", START)],
            now=START,
        )
    await publish_everything(sessions)

    async with transaction(sessions) as s:
        resent = await resend_unanswered(
            s, ack_timeout=ACK_TIMEOUT, now=START + timedelta(days=2), max_sends=MAX_SENDS
        )

    assert resent == []
    assert [pending for _, pending in await commands_queued(sessions)] == [False]
