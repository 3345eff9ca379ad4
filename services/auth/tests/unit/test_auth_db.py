"""The schema's metadata and its UTC timestamp column type, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql

from codeflow_auth.db import Base, UTCTimestamp, utc_millis
from codeflow_auth.models import Account, Session, User, VerificationToken

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def test_the_metadata_holds_the_auth_js_tables_and_the_messaging_tables() -> None:
    assert set(Base.metadata.tables) == {
        "users",
        "accounts",
        "sessions",
        "verification_tokens",
        "outbox",
        "processed_events",
    }
    assert {User.__tablename__, Account.__tablename__, Session.__tablename__} <= set(
        Base.metadata.tables
    )
    assert not Base.metadata.tables["verification_tokens"].primary_key.columns
    assert [c.name for c in VerificationToken.__mapper__.primary_key] == ["identifier", "token"]


def test_utc_millis_converts_to_utc_and_keeps_milliseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert utc_millis(datetime(2026, 1, 1, 2, 0, 0, 123999, tzinfo=plus_two)) == datetime(
        2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC
    )


def test_utc_millis_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_millis(datetime(2026, 1, 1))


def test_the_timestamp_type_stores_naive_utc_and_reads_aware_utc() -> None:
    column_type = UTCTimestamp()
    stored = column_type.process_bind_param(
        datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5))), DIALECT
    )
    assert stored == datetime(2026, 1, 1, 14, 0)
    assert column_type.process_result_value(stored, DIALECT) == datetime(
        2026, 1, 1, 14, 0, tzinfo=UTC
    )
    assert column_type.process_bind_param(None, DIALECT) is None
    assert column_type.process_result_value(None, DIALECT) is None
    assert str(column_type.compile(dialect=DIALECT)) == "TIMESTAMP(3) WITHOUT TIME ZONE"
