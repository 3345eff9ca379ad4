"""Test helpers for services: a migrated database and what its schema holds, JWTs with a JWKS
served on loopback, and the settings a service under test runs with.

Imported by the services' test suites only; it needs ``codeflow-infra`` (a dev dependency).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from codeflow_identity import KeySet, TokenIssuer, generate_signing_key, service_audience
from codeflow_infra.asgi import serve
from codeflow_infra.testing import scratch_database
from codeflow_messaging import create_engine

ISSUER = "http://127.0.0.1:8080/auth"


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


class TestTokens:
    """Signs JWTs the way auth does for ``service``, and serves the JWKS that verifies them."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, *, service: str, issuer: str = ISSUER) -> None:
        self.keyset = KeySet(generate_signing_key())
        self.issuer = TokenIssuer(self.keyset, issuer, service_audience(service))
        self.jwks_url = ""

    def token_for(self, user_id: str, *, service: str | None = None, **claims: Any) -> str:
        """A token for ``user_id``, for this service unless ``service`` names another."""
        audience = service_audience(service) if service else None
        return self.issuer.issue(user_id, extra_claims=claims, audience=audience)

    def headers_for(
        self, user_id: str, *, service: str | None = None, **claims: Any
    ) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token_for(user_id, service=service, **claims)}"}

    def jwks_app(self) -> Starlette:
        async def jwks(request: Request) -> JSONResponse:
            return JSONResponse(self.keyset.jwks())

        return Starlette(routes=[Route("/auth/.well-known/jwks.json", jwks)])

    @asynccontextmanager
    async def served(self) -> AsyncIterator[TestTokens]:
        """Serve the JWKS on loopback; ``jwks_url`` is set while the block runs."""
        async with serve(self.jwks_app()) as base_url:
            self.jwks_url = f"{base_url}/auth/.well-known/jwks.json"
            yield self


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
