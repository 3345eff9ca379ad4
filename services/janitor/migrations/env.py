"""Alembic environment for the janitor database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else ``JANITOR_DATABASE_URL``,
else ``DATABASE_URL`` (it must name the janitor database). A caller holding a connection can
pass it as ``config.attributes["connection"]``.
"""

from codeflow_janitor import models  # noqa: F401  (importing it registers the tables)
from codeflow_janitor.db import Base
from codeflow_service.migrations import run_migrations

run_migrations(Base.metadata, url_variables=("JANITOR_DATABASE_URL", "DATABASE_URL"))
