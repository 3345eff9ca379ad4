"""The auth schema's declarative base and the column type for its timestamps.

Table and column names follow the Auth.js Prisma schema the service grew from. The metadata
also holds the service's ``outbox`` and ``processed_events`` tables, so the migrations create
them and ``alembic check`` compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from codeflow_service.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


def utc_millis(value: datetime) -> datetime:
    """``value`` in UTC, cut to the milliseconds a ``timestamp(3)`` column keeps.

    Raises ``ValueError`` for a naive datetime: its time zone would be a guess.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
    utc = value.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


class UTCTimestamp(TypeDecorator[datetime]):
    """``timestamp(3) without time zone`` holding UTC, as Prisma maps ``DateTime``.

    Python sees aware UTC datetimes; the column stores them without an offset.
    """

    impl = TIMESTAMP(timezone=False, precision=3)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return utc_millis(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
