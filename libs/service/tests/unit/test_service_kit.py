from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import SettingsConfigDict

from codeflow_service.cli import service_main
from codeflow_service.db import service_metadata
from codeflow_service.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXAMPLE_", extra="ignore", frozen=True, populate_by_name=True
    )


def test_a_service_command_line_needs_a_command() -> None:
    with pytest.raises(SystemExit):
        service_main(name="example", default_port=1, alembic_ini=Path("none"), argv=[])


def test_an_extra_command_runs_instead_of_serve_or_migrate() -> None:
    def extend(commands):  # type: ignore[no-untyped-def]
        commands.add_parser("hello")
        return {"hello": lambda args: 42}

    assert (
        service_main(
            name="example",
            default_port=1,
            alembic_ini=Path("none"),
            argv=["hello"],
            extend=extend,
        )
        == 42
    )


def test_service_metadata_names_constraints_and_holds_the_outbox_and_inbox() -> None:
    metadata = service_metadata()
    assert {"outbox", "processed_events"} <= set(metadata.tables)
    assert metadata.naming_convention["pk"] == "pk_%(table_name)s"


def test_settings_read_the_database_under_the_prefix_and_the_rest_shared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql://db.example/example")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("CODEFLOW_JWKS_URL", "http://auth.example/jwks.json")
    monkeypatch.setenv("CODEFLOW_ENV", "development")
    settings = ExampleSettings()
    assert settings.database_url == "postgresql://db.example/example"
    assert settings.kafka_bootstrap_servers == "kafka.example:9092"
    assert settings.jwks_url == "http://auth.example/jwks.json"
    assert settings.environment == "development"
