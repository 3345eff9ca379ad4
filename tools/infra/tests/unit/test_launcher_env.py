from pathlib import Path

import pytest

from codeflow_infra.config import InfraConfig
from codeflow_infra.launcher import external_kafka, external_postgres, render_env_file


def config(tmp_path: Path, **env: str) -> InfraConfig:
    return InfraConfig.from_env({"CODEFLOW_LOCAL_DIR": str(tmp_path), **env})


def parse_env_file(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_env_file_names_the_local_servers_and_the_maintenance_database(
    tmp_path: Path,
) -> None:
    text = render_env_file(config(tmp_path, POSTGRES_PORT="15432", KAFKA_PORT="19092"))

    assert parse_env_file(text) == {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:15432/postgres",
    }


def test_the_env_file_is_plain_shell_assignments(tmp_path: Path) -> None:
    for line in render_env_file(config(tmp_path)).splitlines():
        assert line.startswith("#") or " " not in line


def test_the_env_file_passes_on_servers_named_by_the_environment(tmp_path: Path) -> None:
    text = render_env_file(
        config(
            tmp_path, DATABASE_URL="postgresql://u@db:5432/postgres", KAFKA_BOOTSTRAP_SERVERS="k:1"
        )
    )

    assert parse_env_file(text) == {
        "KAFKA_BOOTSTRAP_SERVERS": "k:1",
        "DATABASE_URL": "postgresql://u@db:5432/postgres",
    }


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", False),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", False),
        ("postgresql://postgres@127.0.0.1:5433/postgres", True),
        ("postgresql://app:secret@db.internal/app", True),
    ],
)
def test_only_a_server_other_than_the_launchers_own_counts_as_external(
    tmp_path: Path, url: str, external: bool
) -> None:
    assert external_postgres(config(tmp_path, DATABASE_URL=url)) is external


def test_a_sourced_env_file_does_not_turn_the_local_kafka_into_an_external_one(
    tmp_path: Path,
) -> None:
    assert not external_kafka(config(tmp_path, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092"))
    assert external_kafka(config(tmp_path, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9094"))
    assert not external_kafka(config(tmp_path))
