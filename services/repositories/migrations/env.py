"""Alembic environment for the repositories database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else
``REPOSITORIES_DATABASE_URL``, else ``DATABASE_URL`` (it must name the repositories
database). A caller holding a connection can pass it as ``config.attributes["connection"]``.
"""

from codeflow_repositories import models  # noqa: F401  (importing it registers the tables)
from codeflow_repositories.db import Base
from codeflow_service.migrations import run_migrations

run_migrations(Base.metadata, url_variables=("REPOSITORIES_DATABASE_URL", "DATABASE_URL"))
