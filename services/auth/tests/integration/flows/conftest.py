"""A running auth service, the GitHub emulator beside it, and a browser-like client.

Both servers listen on 127.0.0.1 (random ports) over real HTTP; auth uses the test's own
migrated database and the real Kafka.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from codeflow_auth.config import AuthSettings
from codeflow_auth.main import create_app
from codeflow_contracts.topics import ALL_TOPICS
from codeflow_github_emulator import EmulatorSettings
from codeflow_github_emulator import create_app as create_emulator
from codeflow_identity.keys import generate_signing_key
from codeflow_infra.kafka import create_topics
from codeflow_messaging import SessionFactory
from codeflow_testing.asgi import reserve_port, serve

sys.path.insert(0, str(Path(__file__).parent))
# Its assertion helpers report what they compared, as assertions in the tests do.
pytest.register_assert_rewrite("auth_flow_support")

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class AuthService:
    url: str
    emulator_url: str
    settings: AuthSettings
    sessions: SessionFactory

    def browser(self) -> httpx.AsyncClient:
        """A client that follows redirects and keeps cookies, as a browser does."""
        return httpx.AsyncClient(follow_redirects=True, timeout=30.0)


StartAuth = Callable[..., Any]


@pytest.fixture
async def start_auth(
    auth_database_url: str,
    auth_sessions: SessionFactory,
    kafka_bootstrap_servers: str,
) -> AsyncIterator[StartAuth]:
    """Start the emulator and auth (settings overridable) for the rest of the test."""
    await create_topics(kafka_bootstrap_servers, ALL_TOPICS)
    stack: list[Any] = []

    async def start(*, auto_login: str | None = "octocat", **overrides: Any) -> AuthService:
        emulator_sock, auth_sock = reserve_port(), reserve_port()
        emulator_url = f"http://127.0.0.1:{emulator_sock.getsockname()[1]}"
        auth_url = f"http://127.0.0.1:{auth_sock.getsockname()[1]}"
        options: dict[str, Any] = {
            # Plain http on loopback: outside development auth insists on https.
            "environment": "development",
            "database_url": auth_database_url,
            "kafka_bootstrap_servers": kafka_bootstrap_servers,
            "secret": secrets.token_urlsafe(32),
            "public_url": auth_url,
            "github_client_id": "codeflow-test-client",
            "github_client_secret": "codeflow-test-secret-" + secrets.token_hex(8),
            "github_oauth_base_url": emulator_url,
            "github_api_base_url": emulator_url,
            "jwt_private_key": generate_signing_key().private_pem(),
            "token_keys": f"k1:{_key()}",
            "relay_poll_interval": 0.05,
            "activity_interval": timedelta(hours=1),
        }
        options.update(overrides)
        settings = AuthSettings(**options)
        emulator_server = serve(
            create_emulator(EmulatorSettings(auto_login=auto_login)), sock=emulator_sock
        )
        auth_server = serve(create_app(settings), sock=auth_sock)
        await emulator_server.__aenter__()
        stack.append(emulator_server)
        async with httpx.AsyncClient() as client:
            registered = await client.post(
                f"{emulator_url}/_emulator/apps",
                json={
                    "client_id": settings.github_client_id,
                    "client_secret": settings.github_client_secret.get_secret_value(),
                    "callback_urls": [settings.callback_url],
                },
            )
            registered.raise_for_status()
        await auth_server.__aenter__()
        stack.append(auth_server)
        return AuthService(auth_url, emulator_url, settings, auth_sessions)

    yield start
    for server in reversed(stack):
        await server.__aexit__(None, None, None)


@pytest.fixture
async def auth(start_auth: StartAuth) -> AuthService:
    """Auth and the emulator as most tests want them: started with the default settings."""
    service: AuthService = await start_auth()
    return service


def _key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
