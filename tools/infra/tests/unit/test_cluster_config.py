"""The local cluster's ports, URLs and each service's environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.config import ConfigError

BASE = {"CODEFLOW_LOCAL_DIR": "/srv/codeflow-cluster-test", "PATH": "/usr/bin"}


def config(**env: str) -> ClusterConfig:
    return ClusterConfig.from_env({**BASE, **env})


def test_the_defaults_are_the_documented_ports() -> None:
    cluster = config()

    assert cluster.gateway_url == "http://127.0.0.1:8080"
    assert cluster.emulator_url == "http://127.0.0.1:9000"
    assert dict(cluster.service_ports) == {
        "auth": 8001,
        "profiles": 8002,
        "repositories": 8003,
        "janitor": 8004,
    }
    assert cluster.local_dir == Path("/srv/codeflow-cluster-test")


def test_every_port_moves_with_its_variable() -> None:
    cluster = config(
        GATEWAY_PORT="18080",
        AUTH_PORT="18001",
        PROFILES_PORT="18002",
        REPOSITORIES_PORT="18003",
        JANITOR_PORT="18004",
        GITHUB_EMULATOR_PORT="19000",
        POSTGRES_PORT="15432",
        KAFKA_PORT="19092",
    )

    assert cluster.gateway_url == "http://127.0.0.1:18080"
    assert cluster.emulator_url == "http://127.0.0.1:19000"
    assert cluster.service_url("janitor") == "http://127.0.0.1:18004"
    assert cluster.jwks_url == "http://127.0.0.1:18001/auth/.well-known/jwks.json"
    assert cluster.database_url("profiles") == (
        "postgresql://postgres@127.0.0.1:15432/codeflow_profiles"
    )


def test_two_pieces_on_one_port_are_refused() -> None:
    with pytest.raises(ConfigError, match="PROFILES_PORT and AUTH_PORT are both 8001"):
        config(PROFILES_PORT="8001")
    with pytest.raises(ConfigError, match="is not a port number"):
        config(GATEWAY_PORT="eighty")


def test_each_service_gets_its_own_database_and_the_shared_settings() -> None:
    env = config(KAFKA_PORT="19092", AUTH_ADMIN_GITHUB_IDS="583231").service_env("repositories")

    own = "postgresql://postgres@127.0.0.1:5432/codeflow_repositories"
    expected = {
        "REPOSITORIES_DATABASE_URL": own,
        "DATABASE_URL": own,
        "REPOSITORIES_PORT": "8003",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
        "CODEFLOW_ENV": "development",
        "CODEFLOW_JWKS_URL": "http://127.0.0.1:8001/auth/.well-known/jwks.json",
        "CODEFLOW_JWT_ISSUER": "http://127.0.0.1:8080/auth",
        "AUTH_URL": "http://127.0.0.1:8080",
        "AUTH_ADMIN_GITHUB_IDS": "583231",
        "PATH": "/usr/bin",
    }
    assert {name: env[name] for name in expected} == expected


def test_repositories_reaches_auths_internal_routes_straight_not_through_the_gateway() -> None:
    env = config(AUTH_PORT="18001").service_env("repositories")

    assert env["REPOSITORIES_AUTH_INTERNAL_URL"] == "http://127.0.0.1:18001"


def test_overrides_of_one_service_are_laid_over_its_environment_last() -> None:
    proxied = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:26501/codeflow_auth"}
    cluster = replace(config(), service_overrides={"auth": proxied})

    assert cluster.service_env("auth")["DATABASE_URL"] == proxied["DATABASE_URL"]
    assert cluster.service_env("janitor")["DATABASE_URL"].endswith(":5432/codeflow_janitor")


def test_an_external_database_server_is_used_for_every_service() -> None:
    env = config(DATABASE_URL="postgresql://app:pw@db.internal:5433/postgres").service_env("auth")

    assert env["AUTH_DATABASE_URL"] == "postgresql://app:pw@db.internal:5433/codeflow_auth"


def test_a_set_environment_and_public_url_are_kept_and_the_issuer_follows() -> None:
    cluster = config(CODEFLOW_ENV="test", AUTH_URL="https://codeflow.example/")
    env = cluster.service_env("profiles")

    assert env["CODEFLOW_ENV"] == "test"
    assert env["AUTH_URL"] == "https://codeflow.example"
    assert env["CODEFLOW_JWT_ISSUER"] == "https://codeflow.example/auth"


def test_without_a_github_app_the_emulator_stands_in() -> None:
    cluster = config(GITHUB_EMULATOR_PORT="19000")
    env = cluster.service_env("auth")

    assert cluster.uses_emulator
    assert env["GITHUB_OAUTH_BASE_URL"] == "http://127.0.0.1:19000"
    assert env["GITHUB_API_BASE_URL"] == "http://127.0.0.1:19000"
    assert env["GITHUB_CLIENT_ID"] == "codeflow-dev-client"


def test_with_a_github_app_the_real_github_is_used() -> None:
    cluster = config(GITHUB_CLIENT_ID="Iv1.real", GITHUB_CLIENT_SECRET="real-secret")
    env = cluster.service_env("auth")

    assert not cluster.uses_emulator
    assert env["GITHUB_CLIENT_ID"] == "Iv1.real"
    assert "GITHUB_OAUTH_BASE_URL" not in env
    assert "GITHUB_API_BASE_URL" not in env


def test_one_replica_of_each_service_unless_told_otherwise() -> None:
    assert dict(config().replicas) == dict.fromkeys(
        ("auth", "profiles", "repositories", "janitor"), 1
    )

    cluster = config(CODEFLOW_REPLICAS="2", JANITOR_REPLICAS="1")

    assert dict(cluster.replicas) == {"auth": 2, "profiles": 2, "repositories": 2, "janitor": 1}
    assert cluster.replica_ports("profiles") == [8002, 8102]
    assert cluster.replica_ports("janitor") == [8004]
    assert cluster.service_env("profiles", 8102)["PROFILES_PORT"] == "8102"
    # Every replica checks tokens against the first replica of auth.
    assert cluster.jwks_url == "http://127.0.0.1:8001/auth/.well-known/jwks.json"


def test_a_replica_count_out_of_bounds_or_on_a_taken_port_is_refused() -> None:
    with pytest.raises(ConfigError, match="give 1 to 9 replicas"):
        config(CODEFLOW_REPLICAS="0")
    with pytest.raises(ConfigError, match="is not a number of replicas"):
        config(AUTH_REPLICAS="two")
    with pytest.raises(ConfigError, match=r"PROFILES_PORT \(replica 2\) and GATEWAY_PORT"):
        config(PROFILES_REPLICAS="2", GATEWAY_PORT="8102")
