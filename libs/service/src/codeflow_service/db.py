"""Every service's table metadata: one naming convention, and the outbox and inbox tables."""

from __future__ import annotations

from sqlalchemy import MetaData

from codeflow_messaging import add_messaging_tables

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names Alembic can rely on, the same in every service."""


def service_metadata() -> MetaData:
    """A service's metadata: the naming convention, with ``outbox`` and ``processed_events``."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    add_messaging_tables(metadata)
    return metadata
