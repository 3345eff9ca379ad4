"""Alembic environment for the auth database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else ``AUTH_DATABASE_URL``,
else ``DATABASE_URL``, used as-is (it must name the auth database). A caller that already holds
a connection can pass it as ``config.attributes["connection"]`` instead.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic.autogenerate.api import AutogenContext

from codeflow_auth import models  # noqa: F401  (importing it registers the tables)
from codeflow_auth.db import Base, UTCTimestamp
from codeflow_service.migrations import run_migrations


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the models' UTC timestamps as the plain column type they are in the database."""
    if kind == "type" and isinstance(obj, UTCTimestamp):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.TIMESTAMP(precision=3)"
    return False


run_migrations(
    Base.metadata,
    url_variables=("AUTH_DATABASE_URL", "DATABASE_URL"),
    configure={"render_item": render_item},
)
