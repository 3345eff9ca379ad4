"""Alembic environment for the janitor database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else ``JANITOR_DATABASE_URL``,
else ``DATABASE_URL``, used as-is (it must name the janitor database).
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from codeflow_janitor import models  # noqa: F401  (importing it registers the tables)
from codeflow_janitor.db import Base
from codeflow_messaging import create_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("JANITOR_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise RuntimeError("set JANITOR_DATABASE_URL or DATABASE_URL to the janitor database's URL")
    return url


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(database_url(), pool_pre_ping=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
