"""The app and its settings, built without starting anything."""

from __future__ import annotations

import pytest
from repositories_api_support import OPERATIONS
from sqlalchemy.ext.asyncio import async_sessionmaker

from codeflow_repositories.config import DEVELOPMENT_INTERNAL_TOKEN, RepositoriesSettings
from codeflow_repositories.consumers import consumers
from codeflow_repositories.main import create_app


def test_settings_read_the_repositories_prefix_and_fall_back_to_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/seed")
    assert RepositoriesSettings().database_url == "postgresql://h/seed"
    monkeypatch.setenv("REPOSITORIES_DATABASE_URL", "postgresql://h/own")
    monkeypatch.setenv("REPOSITORIES_RELAY_POLL_INTERVAL", "0.5")
    settings = RepositoriesSettings()
    assert (settings.database_url, settings.relay_poll_interval) == ("postgresql://h/own", 0.5)


def test_the_openapi_document_lists_the_seven_operations_under_repositories() -> None:
    app = create_app(
        RepositoriesSettings(database_url="postgresql://h/db", environment="development")
    )
    document = app.openapi()
    operations = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == OPERATIONS
    assert app.openapi_url == "/repositories/openapi.json"


@pytest.mark.parametrize("token", [None, "short", DEVELOPMENT_INTERNAL_TOKEN])
def test_outside_development_the_service_refuses_a_missing_or_placeholder_internal_token(
    token: str | None,
) -> None:
    options = {"auth_internal_token": token} if token else {}
    settings = RepositoriesSettings(database_url="postgresql://h/db", **options)

    with pytest.raises(ValueError, match="REPOSITORIES_AUTH_INTERNAL_TOKEN must be auth's"):
        create_app(settings)


def test_a_real_internal_token_is_accepted_outside_development() -> None:
    settings = RepositoriesSettings(
        database_url="postgresql://h/db", auth_internal_token="x" * 40, environment="production"
    )
    assert create_app(settings).title == "CodeFlow repositories"


def test_the_erasure_consumer_takes_a_backlog_of_auth_events_500_at_a_time() -> None:
    assert [consumer.max_batch for consumer in consumers(async_sessionmaker())] == [500]
