"""A service under test: the settings it runs with, its migrated database and sessions as
fixtures named for it, and the whole service served on loopback."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from codeflow_contracts.topics import ALL_TOPICS
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory
from codeflow_messaging.testing import sessions_on
from codeflow_testing.asgi import serve
from codeflow_testing.databases import migrated_database
from codeflow_testing.kafka import new_group_at_end
from codeflow_testing.tokens import TestTokens

Settings = TypeVar("Settings")


def settings_for_tests(
    *, database_url: str, kafka_bootstrap_servers: str, tokens: TestTokens, consumer_group: str
) -> dict[str, Any]:
    """The settings every service takes under test, as keyword arguments: its database, the
    test Kafka, ``tokens``' JWKS and issuer, its own consumer group, and a quick relay."""
    return {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap_servers,
        "jwks_url": tokens.jwks_url,
        "jwt_issuer": tokens.issuer.issuer,
        "consumer_group": consumer_group,
        "relay_poll_interval": 0.05,
    }


def service_database(service: str, alembic_ini: Path) -> tuple[Any, Any]:
    """The two fixtures a service's integration tests start from, named for ``service``:
    ``<service>_database_url``, a new database at the latest migration, dropped after the
    test, and ``<service>_sessions``, sessions on it. A conftest binds them to those names:

        janitor_database_url, janitor_sessions = service_database("janitor", ALEMBIC_INI)
    """
    url_fixture = f"{service}_database_url"

    async def database_url(postgres_url: str) -> AsyncIterator[str]:
        async with migrated_database(postgres_url, alembic_ini, prefix=f"{service}_test") as url:
            yield url

    async def sessions(**requested: str) -> AsyncIterator[SessionFactory]:
        async with sessions_on(requested[url_fixture]) as factory:
            yield factory

    # pytest finds what a fixture needs by its parameters' names; this one's is the service's.
    sessions.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(url_fixture, inspect.Parameter.KEYWORD_ONLY, annotation=str)]
    )
    return (
        pytest.fixture(name=url_fixture)(database_url),
        pytest.fixture(name=f"{service}_sessions")(sessions),
    )


@dataclass(frozen=True)
class ServedService(Generic[Settings]):
    """A service running on loopback: its base URL and the settings it runs with."""

    url: str
    settings: Settings


@asynccontextmanager
async def served_service(
    create_app: Callable[[Settings], Any],
    settings_type: Callable[..., Settings],
    *,
    database_url: str,
    kafka_bootstrap_servers: str,
    tokens: TestTokens,
    group_prefix: str,
    consumes: Iterable[str],
    **overrides: Any,
) -> AsyncIterator[ServedService[Settings]]:
    """The whole service (HTTP, its consumers, the outbox relay) on loopback until the block
    ends, with the settings it takes under test and ``overrides`` on top.

    Every topic exists first. The service's consumer group is new (``<group_prefix>-<random>``)
    and starts at the current end of the topics it ``consumes``: what earlier tests left on
    the shared topics is not this test's.
    """
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    group_id = await new_group_at_end(kafka_bootstrap_servers, group_prefix, consumes)
    options = settings_for_tests(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        tokens=tokens,
        consumer_group=group_id,
    )
    settings = settings_type(**(options | overrides))
    async with serve(create_app(settings)) as url:
        yield ServedService(url, settings)
