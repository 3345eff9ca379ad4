from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import TopicPartition
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from codeflow_contracts import UserActive, UserCreated, new_envelope, to_json_bytes
from codeflow_messaging import Backoff, OutboxRelay, async_database_url, is_transient
from codeflow_messaging import dead_letters as dl
from codeflow_messaging.dispatch import Delivery, Dispatcher, Handles, in_runs
from codeflow_messaging.failures import RetryPolicy
from codeflow_messaging.testing import received_record


def test_backoff_doubles_from_its_initial_delay_up_to_its_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "options", [{"initial": 0}, {"initial": 2.0, "maximum": 1.0}, {"multiplier": 0.5}]
)
def test_backoff_refuses_settings_that_never_wait_or_shrink(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(**options)


def test_a_retry_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@127.0.0.1:5432/db", "postgresql+asyncpg://u:p@127.0.0.1:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql+psycopg://u@h/db?sslmode=require",
            "postgresql+asyncpg://u@h/db?sslmode=require",
        ),
    ],
)
def test_database_urls_are_rewritten_for_asyncpg(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


def test_a_database_url_for_another_database_is_refused_with_what_it_got() -> None:
    with pytest.raises(ValueError, match="must point at PostgreSQL, got 'mysql'"):
        async_database_url("mysql://u@h/db")


def _dbapi_error(cls: type[DBAPIError], orig: Exception) -> DBAPIError:
    return cls("SELECT 1", {}, orig)


def test_losing_the_database_is_transient_but_a_bad_row_is_not() -> None:
    assert is_transient(ConnectionRefusedError())
    assert is_transient(_dbapi_error(OperationalError, Exception("server closed the connection")))
    assert is_transient(
        _dbapi_error(DBAPIError, asyncpg.exceptions.SerializationError("could not serialize"))
    )
    assert not is_transient(
        _dbapi_error(IntegrityError, asyncpg.exceptions.UniqueViolationError("duplicate key"))
    )
    assert not is_transient(ValueError("bad payload"))


def test_dead_letter_headers_keep_the_records_own_and_say_where_and_why_it_failed() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error = exc
    headers = dl.dead_letter_headers(
        received_record([("content-type", b"application/cloudevents+json"), (dl.ATTEMPTS, b"9")]),
        error,
        group_id="profiles",
        attempts=5,
    )
    assert headers["content-type"] == "application/cloudevents+json"
    assert headers[dl.ORIGINAL_TOPIC] == "auth.user-events"
    assert headers[dl.ORIGINAL_PARTITION] == "2"
    assert headers[dl.ORIGINAL_OFFSET] == "41"
    assert headers[dl.GROUP] == "profiles"
    assert headers[dl.ATTEMPTS] == "5"
    assert headers[dl.ERROR_TYPE] == "builtins.KeyError"
    assert headers[dl.ERROR_MESSAGE] == "'missing'"
    assert "raise KeyError" in headers[dl.ERROR_TRACE]


class _Consumer:
    """aiokafka's consumer as far as ``_caught_up`` uses it, holding ``auth.user-events[2]``
    unless told otherwise; like aiokafka's, ``highwater`` asserts the partition is held."""

    def __init__(self, highwater: int | None, *, holds: bool = True) -> None:
        self._highwater = highwater
        self._assignment = {TopicPartition("auth.user-events", 2)} if holds else set()

    def assignment(self) -> set[TopicPartition]:
        return set(self._assignment)

    def highwater(self, partition: TopicPartition) -> int | None:
        assert partition in self._assignment, "Partition is not assigned"
        return self._highwater


HELD = TopicPartition("auth.user-events", 2)
OTHER = TopicPartition("auth.user-events", 1)


def test_a_batch_is_caught_up_when_a_partition_s_records_end_at_its_highwater() -> None:
    from codeflow_messaging.consumer import _caught_up

    assert _caught_up(_Consumer(42), {HELD: 42})
    assert not _caught_up(_Consumer(50), {HELD: 42})
    assert _caught_up(_Consumer(None), {HELD: 42}), "unknown highwater: commit, to be safe"


def test_a_partition_revoked_mid_batch_is_not_taken_for_caught_up() -> None:
    from codeflow_messaging.consumer import _caught_up

    assert not _caught_up(_Consumer(42, holds=False), {HELD: 42})


def test_one_caught_up_partition_is_enough_and_one_it_no_longer_holds_is_passed_over() -> None:
    from codeflow_messaging.consumer import _caught_up

    assert _caught_up(_Consumer(42), {OTHER: 7, HELD: 42}), "OTHER is no longer held"
    assert not _caught_up(_Consumer(50), {OTHER: 7, HELD: 42})


@pytest.mark.parametrize("option", ["commit_every", "max_batch"])
def test_a_consumer_commits_at_least_every_record_and_reads_at_least_one(option: str) -> None:
    from codeflow_messaging import ReliableConsumer

    with pytest.raises(ValueError, match="at least 1"):
        ReliableConsumer(
            group_id="g",
            topics=["t"],
            handlers=[],
            sessions=None,  # type: ignore[arg-type]
            **{option: 0},  # type: ignore[arg-type]
        )


def _delivery(message: Any) -> Delivery:
    envelope = new_envelope(message, source="codeflow/tests")
    return Delivery(record=received_record(), envelope=envelope, handler=_ignore)


async def _ignore(session: Any, envelopes: Sequence[Any]) -> None:
    return None


def test_a_batch_is_applied_in_runs_of_one_type_that_keep_every_message_in_order() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    created = [
        _delivery(UserCreated(user_id=f"u{n}", github_id=n + 1, login=f"l{n}", created_at=at))
        for n in range(2)
    ]
    active = [_delivery(UserActive(user_id=f"u{n}", active_at=at)) for n in range(4)]
    batch = [active[0], active[1], created[0], created[1], active[2], active[3]]

    runs = list(in_runs(batch))

    assert runs == [[active[0], active[1]], [created[0], created[1]], [active[2], active[3]]]
    assert [d for run in runs for d in run] == batch


def test_a_message_type_with_two_handlers_is_refused() -> None:
    with pytest.raises(ValueError, match="UserActive has two handlers"):
        Dispatcher(
            "g",
            [Handles(UserActive, _ignore), Handles(UserActive, _ignore)],
            sessions=None,  # type: ignore[arg-type]
        )


def test_a_record_is_delivered_to_its_types_handler_and_other_types_are_skipped() -> None:
    dispatch = Dispatcher("g", [Handles(UserActive, _ignore)], sessions=None)  # type: ignore[arg-type]
    active = new_envelope(
        UserActive(user_id="u1", active_at=datetime(2026, 1, 1, tzinfo=UTC)),
        source="codeflow/tests",
    )
    created = new_envelope(
        UserCreated(user_id="u1", github_id=1, login="l", created_at=active.data.active_at),
        source="codeflow/tests",
    )

    delivery = dispatch.parse(received_record(value=to_json_bytes(active)))

    assert delivery is not None
    assert (delivery.envelope, delivery.handler) == (active, _ignore)
    assert dispatch.parse(received_record(value=to_json_bytes(created))) is None
    with pytest.raises(ValidationError):  # a ValueError: not an envelope
        dispatch.parse(received_record(value=b"{not json"))


class _SlowStartingProducer:
    """Stands in for an AIOKafkaProducer whose start() takes a moment (a network round trip)."""

    async def start(self) -> None:
        await asyncio.sleep(0.01)

    async def stop(self) -> None:
        return None


async def test_rounds_in_flight_share_one_producer_even_when_both_find_none() -> None:
    made: list[_SlowStartingProducer] = []

    def factory() -> Any:
        made.append(_SlowStartingProducer())
        return made[-1]

    relay = OutboxRelay(sessions=None, producer_factory=factory)  # type: ignore[arg-type]

    first, second = await asyncio.gather(relay._started_producer(), relay._started_producer())

    assert first is second
    assert len(made) == 1
