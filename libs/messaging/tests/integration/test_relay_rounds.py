"""The relay's overlapping rounds: the next round claims and publishes while an earlier one
is still unmarked, yet one key's messages never overtake each other, and a round that fails
neither marks nor loses another round's rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from messaging_support import (
    activity,
    count,
    pending,
    sequence_number,
    wait_drained,
    write_oversized,
    write_to_outbox,
)
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from codeflow_contracts import parse_envelope
from codeflow_messaging import OutboxRelay, SessionFactory, add_to_outbox, transaction
from codeflow_messaging.backoff import Backoff
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FAILED = "SELECT count(*) FROM outbox WHERE last_error IS NOT NULL"
ABOVE_KAFKA_LIMIT = 1_200_000  # bytes: above Kafka's default 1 MB message limit


class RelayHoldingARound(OutboxRelay):
    """Marks the round holding row ``hold_row`` only once ``until()`` returns."""

    def __init__(
        self,
        *args: object,
        hold_row: int,
        until: Callable[[], Awaitable[None]],
        **options: object,
    ) -> None:
        super().__init__(*args, **options)  # type: ignore[arg-type]
        self._hold_row = hold_row
        self._until = until
        self.held: list[int] = []

    async def mark_published(self, session: AsyncSession, ids: Sequence[int]) -> None:
        if self._hold_row in ids:
            self.held = list(ids)
            await self._until()
        await super().mark_published(session, ids)


async def start_holding_relay(
    start_relay: Callable[..., OutboxRelay],
    sessions: SessionFactory,
    until: Callable[[], Awaitable[None]],
    **options: object,
) -> RelayHoldingARound:
    """Run a relay of two rounds in flight, ten rows each, that marks the round holding the
    outbox's first row only once ``until()`` returns."""
    relay = start_relay(
        relay_class=RelayHoldingARound,
        hold_row=await count(sessions, "SELECT min(id) FROM outbox"),
        until=until,
        batch_size=10,
        rounds_in_flight=2,
        **options,
    )
    assert isinstance(relay, RelayHoldingARound)
    return relay


async def test_the_next_round_publishes_while_one_is_unmarked_but_never_overtakes_its_keys(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    start_relay: Callable[..., OutboxRelay],
) -> None:
    # Rows 1-10: users a0-a9; rows 11-20: b0-b9; rows 21-30: a0-a9 again.
    first = [activity(f"a{n}", n) for n in range(10)]
    other_users = [activity(f"b{n}", 10 + n) for n in range(10)]
    again = [activity(f"a{n}", 20 + n) for n in range(10)]
    await write_to_outbox(sessions, first + other_users + again, topic=topic)
    seen_while_held: list[str] = []

    async def second_round_published() -> None:
        async def both_rounds_on_kafka() -> bool:
            return len(await read_topic(kafka_bootstrap_servers, topic)) >= 20

        await wait_until(
            both_rounds_on_kafka, timeout=60, what="a second round while the first is unmarked"
        )
        records = await read_topic(kafka_bootstrap_servers, topic)
        seen_while_held.extend(str(parse_envelope(r.value).id) for r in records)

    relay = await start_holding_relay(start_relay, sessions, second_round_published)
    await wait_drained(sessions)

    # While the first round was unmarked, the second published b0-b9 and nothing of a0-a9's
    # second messages, which waited until the first round's rows were marked.
    assert len(relay.held) == len(first)
    assert sorted(seen_while_held) == sorted(str(e.id) for e in first + other_users)
    records = await read_topic(kafka_bootstrap_servers, topic)
    published = [parse_envelope(r.value) for r in records]
    assert sorted(str(e.id) for e in published) == sorted(
        str(e.id) for e in first + other_users + again
    )
    by_user: dict[str, list[tuple[int, int, int]]] = {}
    for record, envelope in zip(records, published, strict=True):
        by_user.setdefault(envelope.subject or "", []).append(
            (record.partition, record.offset, sequence_number(envelope.data.active_at))
        )
    for user, seen in by_user.items():
        assert len({partition for partition, _, _ in seen}) == 1, f"{user} spans partitions"
        in_offset_order = [n for _, _, n in sorted(seen)]
        assert in_offset_order == sorted(in_offset_order), f"{user}'s messages out of order"


async def test_a_later_round_that_fails_leaves_its_row_pending_and_the_earlier_round_marked(
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    start_relay: Callable[..., OutboxRelay],
) -> None:
    first = [activity(f"a{n}", n) for n in range(10)]
    await write_to_outbox(sessions, first, topic=topic)
    # The second round: nine ordinary messages, then one larger than Kafka accepts (last, so
    # that no other row of its partition waits behind it).
    second = [activity(f"b{n}", 10 + n) for n in range(9)]
    await write_to_outbox(sessions, second, topic=topic)
    too_large = await write_oversized(
        sessions, activity("b-large", 99), topic=topic, padding=ABOVE_KAFKA_LIMIT
    )

    pending_when_it_failed: list[int] = []

    async def second_round_failed() -> None:
        async def failure_recorded() -> bool:
            return await count(sessions, FAILED) == 1

        await wait_until(
            failure_recorded, timeout=60, what="the second round to fail while the first is held"
        )
        pending_when_it_failed.append(await pending(sessions))

    relay = await start_holding_relay(
        start_relay, sessions, second_round_failed, backoff=Backoff(initial=0.05, maximum=0.2)
    )

    async def only_the_large_one_pending() -> bool:
        return await pending(sessions) == 1

    await wait_until(only_the_large_one_pending, timeout=60, what="every other row marked")
    assert len(relay.held) == len(first)
    # When the second round had failed, it had marked its nine; the first round's ten were
    # still pending, acknowledged but held before their mark.
    assert pending_when_it_failed == [len(first) + 1]
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT id, attempts, last_error FROM outbox WHERE published_at IS NULL")
            )
        ).one()
    assert row.id == too_large
    assert row.attempts >= 1
    assert "TooLarge" in row.last_error
    published = {
        str(parse_envelope(r.value).id) for r in await read_topic(kafka_bootstrap_servers, topic)
    }
    assert published == {str(e.id) for e in first + second}


async def test_a_round_claims_with_the_first_statement_of_its_transaction(
    start_relay: Callable[..., OutboxRelay], sessions: SessionFactory, topic: str
) -> None:
    # Each statement before the claim is a round trip between a commit and its message
    # reaching Kafka (ADR 0046).
    engine = sessions.kw["bind"].sync_engine
    just_began: set[int] = set()  # connections whose transaction has sent nothing yet
    claims: list[str] = []  # for each claim: "first", or what its transaction sent before

    def began(conn: Any) -> None:
        just_began.add(id(conn))

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        first = id(conn) in just_began
        just_began.discard(id(conn))
        if sql.lstrip().startswith("WITH refused"):
            claims.append("first" if first else "after another statement")

    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        await write_to_outbox(sessions, [activity("u-first", 1)], topic=topic)
        start_relay()
        await wait_drained(sessions, "the row to be published")
    finally:
        event.remove(engine, "begin", began)
        event.remove(engine, "before_cursor_execute", statement)

    assert claims, "the relay claimed nothing"
    assert set(claims) == {"first"}, claims


async def test_a_round_of_a_thousand_rows_goes_to_kafka_in_one_batch_per_partition(
    start_relay: Callable[..., OutboxRelay],
    sessions: SessionFactory,
    topic: str,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An idempotent producer keeps one batch per partition in flight, so each batch more of a
    # partition is a produce round trip more, one after the other (ADR 0048).
    batches: Counter[int] = Counter()
    send_batch = AIOKafkaProducer.send_batch

    async def counted(producer: AIOKafkaProducer, *args: Any, **options: Any) -> Any:
        batches[options["partition"]] += 1
        return await send_batch(producer, *args, **options)

    monkeypatch.setattr(AIOKafkaProducer, "send_batch", counted)
    envelopes = [activity(f"user-{n}", n) for n in range(1000)]
    async with transaction(sessions) as session:
        for envelope in envelopes:
            await add_to_outbox(session, envelope, topic=topic)
    start_relay(batch_size=1000)
    await wait_drained(sessions, "the thousand rows to be published")

    records = await read_topic(kafka_bootstrap_servers, topic)
    assert sorted(str(parse_envelope(r.value).id) for r in records) == sorted(
        str(e.id) for e in envelopes
    )
    assert set(batches) == {0, 1, 2}, "the keys spread over the topic's three partitions"
    assert dict(batches) == {0: 1, 1: 1, 2: 1}, dict(batches)
