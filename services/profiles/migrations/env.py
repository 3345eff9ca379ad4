"""Alembic environment for the profiles database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else
``PROFILES_DATABASE_URL``. A caller that already holds a connection can pass it as
``config.attributes["connection"]`` instead.
"""

from codeflow_profiles import models  # noqa: F401  (importing it registers the tables)
from codeflow_profiles.db import Base
from codeflow_service.migrations import run_migrations

run_migrations(Base.metadata, url_variables=("PROFILES_DATABASE_URL",))
