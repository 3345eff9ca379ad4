"""The app and its settings, built without starting anything."""

from __future__ import annotations

import pytest

from codeflow_repositories.config import RepositoriesSettings
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


def test_the_openapi_document_lists_the_five_operations_under_repositories() -> None:
    app = create_app(RepositoriesSettings(database_url="postgresql://h/db"))
    document = app.openapi()
    operations = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == {
        ("GET", "/repositories"),
        ("POST", "/repositories"),
        ("PATCH", "/repositories/{repository_id}"),
        ("DELETE", "/repositories/{repository_id}"),
        ("POST", "/repositories/bulk"),
    }
    assert app.openapi_url == "/repositories/openapi.json"
