"""A running repositories service for the integration tests, on the real PostgreSQL and Kafka.

One service and one migrated database serve the whole session: everything the service does is
scoped to the caller, so each test stays out of the others' way by acting as its own users
(``new_user``). Tests that need a database to themselves (the schema and plan tests) make one.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging import SessionFactory
from codeflow_messaging.testing import sessions_on
from codeflow_repositories.config import RepositoriesSettings
from codeflow_repositories.main import create_app
from codeflow_testing.asgi import serve
from codeflow_testing.databases import migrated_database
from codeflow_testing.services import served_service
from codeflow_testing.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).parent))

from repositories_support import ALEMBIC_INI, GITHUB

from codeflow_testing.github_route import TOKEN


@dataclass(frozen=True)
class RepositoriesService:
    """The service under test: its URL, its database, and tokens it accepts."""

    url: str
    sessions: SessionFactory
    tokens: TestTokens
    github_url: str
    """Where GitHub answers as auth's internal route (``repositories_support.GITHUB``)."""

    def client_for(self, user_id: str | None) -> httpx.AsyncClient:
        """A client calling as ``user_id`` (a valid JWT), or anonymously for ``None``."""
        headers = dict(self.tokens.headers_for(user_id)) if user_id else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30.0)


@pytest.fixture(scope="session")
async def repositories_database_url(postgres_url: str) -> AsyncIterator[str]:
    """The session's database, migrated with the real migrations."""
    async with migrated_database(postgres_url, ALEMBIC_INI, prefix="repositories_test") as url:
        yield url


@pytest.fixture(scope="session")
async def repositories_service(
    repositories_database_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[RepositoriesService]:
    """The app served on loopback with its lifespan: relay, consumer, JWKS verification, and
    GitHub as auth's internal route shows it (``repositories_support.GITHUB``)."""
    async with (
        sessions_on(repositories_database_url) as sessions,
        TestTokens(service="repositories").served() as tokens,
        serve(GITHUB.app) as auth_url,
        served_service(
            create_app,
            RepositoriesSettings,
            database_url=repositories_database_url,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            tokens=tokens,
            group_prefix="repositories-served",
            consumes=[USER_EVENTS],
            auth_internal_url=auth_url,
            auth_internal_token=TOKEN,
        ) as served,
    ):
        yield RepositoriesService(served.url, sessions, tokens, auth_url)


@pytest.fixture
def new_user() -> Callable[[], str]:
    """Make up a user id no other test uses (cuid-like, as the contracts require)."""
    return lambda: f"user{uuid.uuid4().hex[:20]}"


@pytest.fixture
def user(new_user: Callable[[], str]) -> str:
    """The user a test acts as (its own, from ``new_user``)."""
    return new_user()


@pytest.fixture
async def client(
    repositories_service: RepositoriesService, user: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling as ``user``, open for the whole test."""
    async with repositories_service.client_for(user) as client:
        yield client
