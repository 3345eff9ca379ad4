"""Alembic environment for the auth database; runs migrations through asyncpg.

The URL is the Config's ``sqlalchemy.url`` if a caller set one, else ``AUTH_DATABASE_URL``,
else ``DATABASE_URL``, used as-is (it must name the auth database). A caller that already holds
a connection can pass it as ``config.attributes["connection"]`` instead.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from codeflow_auth import models  # noqa: F401  (importing it registers the tables)
from codeflow_auth.db import Base, UTCTimestamp
from codeflow_messaging import create_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("AUTH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise RuntimeError("set AUTH_DATABASE_URL or DATABASE_URL to the auth database's URL")
    return url


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the models' UTC timestamps as the plain column type they are in the database."""
    if kind == "type" and isinstance(obj, UTCTimestamp):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.TIMESTAMP(precision=3)"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_item=render_item
    )
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
        render_item=render_item,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    run_migrations(connection)
else:
    asyncio.run(run_async_migrations())
