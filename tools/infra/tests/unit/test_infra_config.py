from pathlib import Path

import pytest

from codeflow_infra.config import ConfigError, InfraConfig, find_repo_root


def make_repo(root: Path) -> Path:
    (root / "deploy" / "kafka").mkdir(parents=True)
    (root / "deploy" / "kafka" / "pom.xml").write_text("<project/>")
    return root


def test_defaults_put_local_state_under_the_repository_on_the_standard_ports(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    config = InfraConfig.from_env({"CODEFLOW_REPO_ROOT": str(repo)})

    assert config.local_dir == repo / ".local"
    assert config.postgres_dir == repo / ".local" / "postgres"
    assert config.kafka_dir == repo / ".local" / "kafka"
    assert config.env_file == repo / ".local" / "infra.env"
    assert config.kafka_deploy_dir == repo / "deploy" / "kafka"
    assert config.postgres_url == "postgresql://postgres@127.0.0.1:5432/postgres"
    assert config.bootstrap_servers == "127.0.0.1:9092"
    assert config.kafka_controller_port == 9093
    assert config.database_url is None
    assert config.kafka_bootstrap_servers is None


def test_environment_overrides_the_local_directory_and_the_ports(tmp_path: Path) -> None:
    config = InfraConfig.from_env(
        {
            "CODEFLOW_REPO_ROOT": str(make_repo(tmp_path / "repo")),
            "CODEFLOW_LOCAL_DIR": str(tmp_path / "elsewhere"),
            "POSTGRES_PORT": "15432",
            "KAFKA_PORT": "19092",
            "KAFKA_CONTROLLER_PORT": "19093",
            "KAFKA_HEAP_OPTS": "-Xmx1g",
        }
    )

    assert config.local_dir == tmp_path / "elsewhere"
    assert config.local_postgres_url == "postgresql://postgres@127.0.0.1:15432/postgres"
    assert config.local_kafka_bootstrap_servers == "127.0.0.1:19092"
    assert config.kafka_controller_port == 19093
    assert config.kafka_heap_opts == "-Xmx1g"


def test_servers_named_by_the_environment_are_the_ones_in_use(tmp_path: Path) -> None:
    config = InfraConfig.from_env(
        {
            "CODEFLOW_LOCAL_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://app@db.internal:5432/postgres",
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.internal:9092",
        }
    )

    assert config.postgres_url == "postgresql://app@db.internal:5432/postgres"
    assert config.bootstrap_servers == "kafka.internal:9092"


@pytest.mark.parametrize("value", ["http", "0", "70000"])
def test_a_port_that_is_not_a_port_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="KAFKA_PORT"):
        InfraConfig.from_env({"CODEFLOW_LOCAL_DIR": str(tmp_path), "KAFKA_PORT": value})


def test_the_repository_root_is_found_from_a_nested_directory(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    nested = repo / "services" / "auth" / "tests"
    nested.mkdir(parents=True)

    assert find_repo_root(nested) == repo


def test_this_checkout_is_found_from_the_package_itself(tmp_path: Path) -> None:
    root = find_repo_root(tmp_path)

    assert root is not None
    assert (root / "deploy" / "kafka" / "server.properties.template").is_file()


def test_only_the_default_directory_is_the_one_make_up_keeps_its_cluster_in(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    default = InfraConfig.from_env({"CODEFLOW_REPO_ROOT": str(repo)})
    tests_own = InfraConfig.from_env(
        {"CODEFLOW_REPO_ROOT": str(repo), "CODEFLOW_LOCAL_DIR": str(repo / ".local" / "test")}
    )

    assert default.is_make_ups
    assert not tests_own.is_make_ups
