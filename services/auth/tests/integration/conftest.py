"""Fixtures for the auth service's integration tests: a fresh, migrated database per test.

``auth_database_url`` is a new database migrated with Alembic's ``upgrade head`` (the real
migrations, not ``create_all``); ``auth_sessions`` is a session factory bound to it.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from codeflow_infra.postgres import create_database, drop_database
from codeflow_messaging import SessionFactory, create_engine, create_session_factory

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

sys.path.insert(0, str(Path(__file__).parent))  # auth_lock_support, beside the tests

AlembicConfigFor = Callable[[str], Config]


def alembic_config(database_url: str) -> Config:
    """The auth service's Alembic configuration, aimed at ``database_url``."""
    config = Config(str(ALEMBIC_INI))
    # ConfigParser interpolates %, which a URL-encoded password may contain.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture
def auth_alembic_config() -> AlembicConfigFor:
    """Build an Alembic ``Config`` for a database URL (run commands with ``asyncio.to_thread``)."""
    return alembic_config


@pytest.fixture
async def auth_empty_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A new database with no tables; dropped after the test."""
    name = f"auth_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_url, name)
    yield url
    await drop_database(postgres_url, name)


@pytest.fixture
async def auth_database_url(auth_empty_database_url: str) -> str:
    """A new database migrated to the latest revision; dropped after the test."""
    # Alembic's env.py runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(auth_empty_database_url), "head")
    return auth_empty_database_url


@pytest.fixture
async def auth_sessions(auth_database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the migrated test database."""
    engine = create_engine(auth_database_url)
    yield create_session_factory(engine)
    await engine.dispose()
