"""Bring the local infrastructure up and down as a whole: PostgreSQL and Kafka together.

A server named by the environment (`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`) is used as it
is and never started or stopped here, unless it is the very address the launcher serves
(as after sourcing `.local/infra.env`).
"""

from __future__ import annotations

import fcntl
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codeflow_infra import kafka, postgres
from codeflow_infra.blocking import run_blocking
from codeflow_infra.config import SERVICE_DATABASES, InfraConfig
from codeflow_infra.kafka_acls import ADMIN
from codeflow_infra.kafka_broker import LocalKafka
from codeflow_infra.kafka_secrets import LocalKafkaSecrets
from codeflow_infra.postgres_server import LocalPostgres
from codeflow_messaging.security import KafkaSecurity

logger = logging.getLogger("codeflow_infra")

EXTERNAL_READY_TIMEOUT = 60.0


@dataclass
class Started:
    """What one call of `up` started itself (and so what the matching `down` should stop)."""

    postgres: bool = False
    kafka: bool = False


def external_postgres(config: InfraConfig) -> bool:
    if config.database_url is None:
        return False
    return postgres.libpq_url(config.database_url) != config.local_postgres_url


def external_kafka(config: InfraConfig) -> bool:
    return config.kafka_bootstrap_servers not in (None, config.local_kafka_bootstrap_servers)


@contextmanager
def lock_file(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def exclusive(config: InfraConfig) -> Iterator[None]:
    """Serialise launchers working on the same local directory."""
    with lock_file(config.run_dir / "infra.lock"):
        yield


def ensure_postgres(config: InfraConfig) -> bool:
    """Make PostgreSQL serve with the service databases present; True if it started it."""
    started = False
    if external_postgres(config):
        logger.info("using PostgreSQL at DATABASE_URL (not managed here)")
        run_blocking(postgres.wait_until_ready(config.postgres_url, EXTERNAL_READY_TIMEOUT))
    else:
        server = LocalPostgres(config)
        pid = server.pid()
        if pid is None:
            server.start()
            started = True
        else:
            logger.info("PostgreSQL already running (pid %d)", pid)
    created = run_blocking(postgres.ensure_databases(config.postgres_url, SERVICE_DATABASES))
    if created:
        logger.info("created databases: %s", ", ".join(created))
    return started


def local_secure_kafka(config: InfraConfig) -> bool:
    """Whether Kafka is the local broker in secure mode (``KAFKA_SECURITY=scram``)."""
    return config.kafka_security == "scram" and not external_kafka(config)


def kafka_admin_security(config: InfraConfig) -> KafkaSecurity | None:
    """How the launcher signs in to Kafka: as the local secure broker's admin, else as the
    environment says (None)."""
    if local_secure_kafka(config):
        return LocalKafkaSecrets.of(config).security(ADMIN)
    return None


def kafka_client_env(config: InfraConfig, principal: str = ADMIN) -> dict[str, str]:
    """The ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*`` and ``KAFKA_SSL_CAFILE`` with which
    ``principal`` reaches the local secure broker; empty otherwise (the environment's stay)."""
    if local_secure_kafka(config):
        return LocalKafkaSecrets.of(config).environment(principal)
    return {}


def ensure_kafka(config: InfraConfig) -> bool:
    """Make Kafka answer metadata requests; True if it started the broker."""
    if external_kafka(config):
        logger.info("using Kafka at KAFKA_BOOTSTRAP_SERVERS (not managed here)")
        run_blocking(kafka.wait_until_ready(config.bootstrap_servers, EXTERNAL_READY_TIMEOUT))
        return False
    broker = LocalKafka(config)
    pid = broker.pid()
    if pid is not None:
        logger.info("Kafka already running (pid %d)", pid)
        return False
    broker.start()
    return True


def up(config: InfraConfig) -> Started:
    """Start whatever is not running, wait until both serve, write `.local/infra.env`."""
    with exclusive(config):
        started = Started()
        try:
            started.postgres = ensure_postgres(config)
            started.kafka = ensure_kafka(config)
        except BaseException:
            _stop(config, started)
            raise
        write_env_file(config)
        return started


def running(config: InfraConfig) -> Started:
    """Which of the launcher-managed servers are running now."""
    return Started(
        postgres=LocalPostgres(config).is_running(), kafka=LocalKafka(config).is_running()
    )


def down(config: InfraConfig, only: Started | None = None) -> None:
    """Stop the launcher-managed servers (all of them, or those flagged in `only`)."""
    with exclusive(config):
        _stop(config, only or Started(postgres=True, kafka=True))
        if not (LocalPostgres(config).is_running() or LocalKafka(config).is_running()):
            config.env_file.unlink(missing_ok=True)


def _stop(config: InfraConfig, which: Started) -> None:
    if which.kafka and not LocalKafka(config).stop():
        logger.info("Kafka was not running")
    if which.postgres and not LocalPostgres(config).stop():
        logger.info("PostgreSQL was not running")


def reset(config: InfraConfig) -> None:
    """Stop both servers and delete their data (logs are kept)."""
    down(config)
    with exclusive(config):
        for directory in (config.postgres_dir, config.kafka_dir):
            if directory.exists():
                logger.info("deleting %s", directory)
                shutil.rmtree(directory)


def discard(config: InfraConfig) -> None:
    """Stop the local servers and delete their data, leaving no trace of a throwaway run but
    its logs. Servers named by `DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` are not touched."""
    if external_postgres(config) or external_kafka(config):
        logger.info(
            "external servers in use: what was created on them stays (see tools/infra/README.md)"
        )
    reset(config)
    config.env_file.unlink(missing_ok=True)


def render_env_file(config: InfraConfig) -> str:
    return (
        "# Written by `python -m codeflow_infra up`: the infrastructure in use.\n"
        "# Load it with: set -a; . .local/infra.env; set +a\n"
        f"KAFKA_BOOTSTRAP_SERVERS={config.bootstrap_servers}\n"
        f"DATABASE_URL={config.postgres_url}\n"
    )


def write_env_file(config: InfraConfig) -> None:
    content = render_env_file(config)
    path = config.env_file
    if path.exists() and path.read_text() == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    logger.info("wrote %s", path)


def status(config: InfraConfig) -> tuple[list[str], bool]:
    """Lines describing each server, and whether both serve."""
    lines = []
    if external_postgres(config):
        try:
            run_blocking(postgres.wait_until_ready(config.postgres_url, 2.0))
        except TimeoutError:
            pg_up, where = False, "unreachable (DATABASE_URL)"
        else:
            pg_up, where = True, "reachable (DATABASE_URL)"
    else:
        pid = LocalPostgres(config).pid()
        pg_up = pid is not None
        where = f"running, pid {pid}" if pg_up else "stopped"
    lines.append(f"{'postgres':<16} {where:<32} {config.postgres_url}")
    if external_kafka(config):
        kafka_up = run_blocking(kafka.metadata_ready(config.bootstrap_servers))
        where = "reachable" if kafka_up else "unreachable"
        where += " (KAFKA_BOOTSTRAP_SERVERS)"
    else:
        pid = LocalKafka(config).pid()
        kafka_up = pid is not None
        where = f"running, pid {pid}" if kafka_up else "stopped"
    lines.append(f"{'kafka':<16} {where:<32} {config.bootstrap_servers}")
    return lines, pg_up and kafka_up
