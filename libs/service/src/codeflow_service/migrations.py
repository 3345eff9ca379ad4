"""The body of every service's Alembic ``env.py``: migrations through asyncpg.

A service's ``env.py`` imports its models and calls :func:`run_migrations` with its metadata
and the environment variables that may name its database.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from codeflow_messaging import create_engine


def run_migrations(
    metadata: MetaData,
    *,
    url_variables: Sequence[str],
    configure: Mapping[str, Any] | None = None,
) -> None:
    """Run the migrations Alembic asked for, against the service's database.

    The URL is the Config's ``sqlalchemy.url`` if a caller set one, else the first of
    ``url_variables`` that is set. A caller holding a connection can pass it as
    ``config.attributes["connection"]``. ``configure`` adds options to
    ``context.configure`` (e.g. ``render_item``).
    """
    config = context.config
    if config.config_file_name is not None and config.attributes.get("configure_logger", True):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    options = {"target_metadata": metadata, **(configure or {})}

    def url() -> str:
        found = config.get_main_option("sqlalchemy.url") or next(
            (os.environ[name] for name in url_variables if os.environ.get(name)), None
        )
        if not found:
            raise RuntimeError(f"set {' or '.join(url_variables)} to the database's URL")
        return found

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_engine(url(), pool_pre_ping=False)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **options
        )
        with context.begin_transaction():
            context.run_migrations()
    elif (connection := config.attributes.get("connection")) is not None:
        run(connection)
    else:
        asyncio.run(run_async())
