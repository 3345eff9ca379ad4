"""Databases of a test's own on the test PostgreSQL: empty or migrated with a service's real
migrations, and what their schema holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_infra.postgres import create_database, drop_database
from codeflow_messaging import create_engine


@asynccontextmanager
async def scratch_database(maintenance_url: str, *, prefix: str) -> AsyncIterator[str]:
    """A new, empty database named ``<prefix>_<random>``; dropped afterwards. Yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = await create_database(maintenance_url, name)
    try:
        yield url
    finally:
        await drop_database(maintenance_url, name)


def alembic_config(alembic_ini: Path, database_url: str) -> Config:
    """A service's Alembic configuration, aimed at ``database_url``."""
    config = Config(str(alembic_ini))
    # ConfigParser interpolates %, which a URL-encoded password may contain.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


async def upgrade_to_head(alembic_ini: Path, database_url: str) -> None:
    """Run the service's migrations up to the latest revision on ``database_url``."""
    # env.py runs its own event loop, so Alembic gets a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(alembic_ini, database_url), "head")


async def check_migrations_round_trip(alembic_ini: Path, database_url: str) -> None:
    """On a database at the latest migration: the models and the schema agree (``alembic
    check``), downgrading to base leaves nothing but ``alembic_version``, and upgrading to head
    again gives a schema the models agree with once more."""
    config = alembic_config(alembic_ini, database_url)
    # Raises if the models and the migrated schema differ.
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    left = await query_rows(
        database_url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    assert left == [("alembic_version",)], f"downgrading to base left {left}"
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)


@asynccontextmanager
async def migrated_database(
    maintenance_url: str, alembic_ini: Path, *, prefix: str
) -> AsyncIterator[str]:
    """A new database at the latest migration; dropped afterwards. Yields its URL."""
    async with scratch_database(maintenance_url, prefix=prefix) as url:
        await upgrade_to_head(alembic_ini, url)
        yield url


async def query_rows(database_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows one query answers, on a connection of its own (for schema checks)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql), params)]
    finally:
        await engine.dispose()


async def public_tables(database_url: str) -> set[str]:
    """The names of the tables in the database's ``public`` schema."""
    sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {name for (name,) in await query_rows(database_url, sql)}


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL of each statement SQLAlchemy's execution sends through ``engine`` meanwhile
    (what its instrumentation sees; the driver's own statements, such as ``BEGIN``, not)."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
