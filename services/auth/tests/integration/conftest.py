"""Fixtures for the auth service's integration tests: a fresh, migrated database per test.

``auth_database_url`` is a new database migrated with Alembic's ``upgrade head`` (the real
migrations, not ``create_all``); ``auth_sessions`` is a session factory bound to it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest
from alembic.config import Config

from codeflow_messaging import SessionFactory
from codeflow_messaging.testing import sessions_on
from codeflow_testing.databases import alembic_config, scratch_database, upgrade_to_head

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

sys.path.insert(0, str(Path(__file__).parent))  # auth_lock_support, beside the tests

AlembicConfigFor = Callable[[str], Config]


@pytest.fixture
def auth_alembic_config() -> AlembicConfigFor:
    """Build an Alembic ``Config`` for a database URL (run commands with ``asyncio.to_thread``)."""
    return partial(alembic_config, ALEMBIC_INI)


@pytest.fixture
async def auth_empty_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A new database with no tables; dropped after the test."""
    async with scratch_database(postgres_url, prefix="auth_test") as url:
        yield url


@pytest.fixture
async def auth_database_url(auth_empty_database_url: str) -> str:
    """A new database migrated to the latest revision; dropped after the test."""
    await upgrade_to_head(ALEMBIC_INI, auth_empty_database_url)
    return auth_empty_database_url


@pytest.fixture
async def auth_sessions(auth_database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the migrated test database."""
    async with sessions_on(auth_database_url) as sessions:
        yield sessions
