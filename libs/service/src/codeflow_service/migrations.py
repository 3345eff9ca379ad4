"""The body of every service's Alembic ``env.py``: migrations through asyncpg.

A service's ``env.py`` imports its models and calls :func:`run_migrations` with its metadata
and the environment variables that may name its database.

Every replica migrates before it starts (an init container on Kubernetes), so two may
migrate at once. Each holds a PostgreSQL advisory lock, fixed per service, for the whole
upgrade: the second waits, then finds the database at head and does nothing.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from codeflow_messaging import create_engine

MIGRATIONS_LOCK_CLASS = 0x4D49  # advisory lock class of the migrations ("MI")
"""The first key of the migrations' advisory lock, apart from any other advisory lock."""


def migrations_lock_key(url_variable: str) -> int:
    """The second key of a service's migrations lock: fixed per service, from the name of
    the variable naming its database (``PROFILES_DATABASE_URL``), as a signed int4."""
    return int.from_bytes(zlib.crc32(url_variable.encode()).to_bytes(4, "big"), signed=True)


@contextmanager
def migrations_lock(connection: Connection, url_variable: str) -> Iterator[None]:
    """Hold the service's migrations lock on ``connection`` (a session lock: it outlives
    the transactions in between, and the connection's end releases it whatever happens)."""
    keys = {"lock_class": MIGRATIONS_LOCK_CLASS, "key": migrations_lock_key(url_variable)}
    connection.execute(text("SELECT pg_advisory_lock(:lock_class, :key)"), keys)
    connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:lock_class, :key)"), keys)
        connection.commit()


def run_migrations(
    metadata: MetaData,
    *,
    url_variables: Sequence[str],
    configure: Mapping[str, Any] | None = None,
) -> None:
    """Run the migrations Alembic asked for, against the service's database.

    The URL is the Config's ``sqlalchemy.url`` if a caller set one, else the first of
    ``url_variables`` that is set. Online, the migrations run holding the service's
    :func:`migrations_lock`, except on a connection a caller passes as
    ``config.attributes["connection"]`` (its transaction is the caller's). ``configure``
    adds options to ``context.configure`` (e.g. ``render_item``).
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

    def run_locked(connection: Connection) -> None:
        with migrations_lock(connection, url_variables[0]):
            run(connection)

    async def run_async() -> None:
        engine = create_engine(url(), pool_pre_ping=False)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run_locked)
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
