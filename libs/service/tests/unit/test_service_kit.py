from __future__ import annotations

import gc
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


def test_settling_the_heap_keeps_startup_objects_out_of_later_collections() -> None:
    from codeflow_service.app import settle_the_heap

    built_at_startup: list[list[int]] = [[n] for n in range(1000)]  # modules, models, caches
    tracked = {id(o) for o in gc.get_objects()}
    assert all(id(o) in tracked for o in built_at_startup)
    try:
        settle_the_heap()
        assert gc.get_freeze_count() >= len(built_at_startup)
        # A collection no longer walks them: they are in none of its generations.
        tracked = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in tracked for o in built_at_startup)
        made_later = [0]
        assert any(o is made_later for o in gc.get_objects())
    finally:
        gc.unfreeze()
