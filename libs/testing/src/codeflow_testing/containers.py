"""Fallback for machines with a Docker engine but no JDK: PostgreSQL and Kafka in containers.

Needs the `docker` extra (`testcontainers[kafka,postgres]`), imported only when used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

POSTGRES_IMAGE = "postgres:18-alpine"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"


def docker_available() -> bool:
    """True if testcontainers is installed and a Docker engine answers."""
    try:
        import docker  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return False
    try:
        client = docker.from_env()
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure to reach the engine means: no Docker here
        return False


@contextlib.contextmanager
def postgres_container() -> Iterator[str]:
    """Run PostgreSQL in a container; yield the URL of its maintenance database."""
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(POSTGRES_IMAGE, username="postgres", dbname="postgres") as container:
        yield str(container.get_connection_url(driver=None))


@contextlib.contextmanager
def kafka_container() -> Iterator[str]:
    """Run a KRaft Kafka in a container; yield its bootstrap servers."""
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
        yield str(container.get_bootstrap_server())
