"""The repositories schema's declarative base, with the constraint naming convention.

The metadata also holds the service's ``outbox`` and ``processed_events`` tables, so the
migrations create them and ``alembic check`` compares them.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from codeflow_service.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()
