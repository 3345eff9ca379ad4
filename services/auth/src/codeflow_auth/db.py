"""The auth schema's declarative base and the column type for its timestamps.

Table and column names follow the Auth.js Prisma schema the service grew from. The metadata
also holds the service's ``outbox`` and ``processed_events`` tables, so the migrations create
them and ``alembic check`` compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from codeflow_messaging import add_messaging_tables

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging_tables = add_messaging_tables(Base.metadata)


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
