from pathlib import Path

import pytest

from codeflow_infra.postgres import database_url, libpq_url
from codeflow_infra.postgres_server import postgres_argv


def test_a_driver_suffix_is_dropped_from_the_scheme() -> None:
    assert (
        libpq_url("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
        == "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    assert (
        libpq_url("postgres://u:p@h/db?sslmode=disable") == "postgresql://u:p@h/db?sslmode=disable"
    )


def test_a_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        libpq_url("mysql://root@localhost/db")


def test_a_database_url_keeps_server_credentials_and_options() -> None:
    assert (
        database_url("postgresql://u:p@h:5433/postgres?sslmode=disable", "codeflow_auth")
        == "postgresql://u:p@h:5433/codeflow_auth?sslmode=disable"
    )


@pytest.mark.parametrize("name", ["", "1abc", 'x"; DROP DATABASE postgres; --', "a-b", "a" * 64])
def test_unsafe_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe database name"):
        database_url("postgresql://postgres@127.0.0.1/postgres", name)


def test_the_server_listens_on_loopback_tcp_only() -> None:
    argv = postgres_argv(Path("/data/pg"), 15432)

    assert argv[argv.index("-D") + 1] == "/data/pg"
    assert "listen_addresses=127.0.0.1" in argv
    assert "port=15432" in argv
    assert "unix_socket_directories=" in argv
