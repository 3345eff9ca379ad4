"""Where a chaos run's cluster lives: a directory and ports of its own, several replicas of
every service, and a Toxiproxy proxy between each service and PostgreSQL, and between each
service and Kafka, on which the network faults are switched on and off.

Kafka hands its clients the addresses to use after the first contact, so a proxy in front of
the broker's usual port would be bypassed. The broker gets one further listener per service
instead, advertised on that service's proxy: a service that bootstraps through its proxy
keeps talking through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from codeflow_infra import postgres
from codeflow_infra.cluster_config import SERVICES, ClusterConfig
from codeflow_infra.config import HOST

DEFAULT_BASE_PORT = 26000
"""The run's ports are this plus fixed offsets: clear of `make up`'s, the tests' (24xxx) and
the benchmarks' (25xxx, 28xxx, 29xxx), below Linux's range for outgoing connections."""

RUN_SETTINGS: Mapping[str, str] = {
    # The clock the janitor judges by, short enough that quiet people are swept in a run:
    # inactive after 30 s, a sweep every 5 s, every candidate erased (no share limit).
    "JANITOR_INACTIVE_AFTER": "30s",
    "JANITOR_SWEEP_INTERVAL": "5s",
    "JANITOR_MAX_DELETION_SHARE": "1",
    "JANITOR_ACK_TIMEOUT": "15s",
    "JANITOR_RESEND_CHECK_INTERVAL": "3s",
    # Auth records a person's activity at most this often (and allows that much margin).
    "AUTH_ACTIVITY_INTERVAL": "PT5S",
    # Every request's session check reaches auth, so every activity the history holds is
    # activity auth saw. (With the cache, a request in the seconds after a check is answered
    # from it and goes unseen, by design: docs/adr/0008-the-read-path.md.)
    "GATEWAY_AUTH_CACHE_SECONDS": "0",
    # The gateway limits sign-ins per client address, and every simulated person comes from
    # 127.0.0.1: the run's people would mostly meet 429s (they did, 7,300 of 11,600
    # operations, when they met the default 10 a second).
    "GATEWAY_SIGNIN_RATE": "500r/s",
    "GATEWAY_SIGNIN_BURST": "1000",
    # Likewise its limits on writes and on requests at once per client address: hundreds of
    # people writing from one address would meet 429s at the defaults (10r/s, 100 at once).
    "GATEWAY_WRITE_RATE": "500r/s",
    "GATEWAY_WRITE_BURST": "1000",
    "GATEWAY_CONNECTION_LIMIT": "2000",
}
"""Service settings of a run (the rest are the local cluster's defaults)."""

INACTIVE_AFTER_SECONDS = 30.0
"""``JANITOR_INACTIVE_AFTER`` above, for the workload's quiet people."""


@dataclass(frozen=True)
class Proxy:
    """A Toxiproxy proxy: ``name`` listens on ``listen_port`` and forwards to ``upstream``."""

    name: str
    listen_port: int
    upstream: str


@dataclass(frozen=True)
class Topology:
    """The ports and processes of one run's cluster."""

    local_dir: Path
    replicas: int = 2
    base_port: int = DEFAULT_BASE_PORT

    @property
    def postgres_port(self) -> int:
        return self.base_port + 432

    @property
    def kafka_port(self) -> int:
        return self.base_port + 92

    @property
    def toxiproxy_port(self) -> int:
        return self.base_port + 474

    def _offset(self, service: str) -> int:
        return SERVICES.index(service)

    def postgres_proxy(self, service: str) -> Proxy:
        return Proxy(
            f"pg-{service}",
            self.base_port + 501 + self._offset(service),
            f"{HOST}:{self.postgres_port}",
        )

    def kafka_listener_port(self, service: str) -> int:
        """The broker's own listener for ``service``, behind its proxy."""
        return self.base_port + 521 + self._offset(service)

    def kafka_proxy(self, service: str) -> Proxy:
        return Proxy(
            f"kafka-{service}",
            self.base_port + 511 + self._offset(service),
            f"{HOST}:{self.kafka_listener_port(service)}",
        )

    def proxies(self) -> list[Proxy]:
        return [
            proxy
            for service in SERVICES
            for proxy in (self.postgres_proxy(service), self.kafka_proxy(service))
        ]

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment the run's cluster is configured from: ``base`` (minus any servers
        it names) with the run's directory, ports, replicas, listeners and settings."""
        env = {
            key: value
            for key, value in base.items()
            if key not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}
        }
        listeners = ",".join(
            f"{service.upper()}={self.kafka_listener_port(service)}"
            f"@{self.kafka_proxy(service).listen_port}"
            for service in SERVICES
        )
        env.update(
            {
                "CODEFLOW_LOCAL_DIR": str(self.local_dir),
                "CODEFLOW_REPLICAS": str(self.replicas),
                "POSTGRES_PORT": str(self.postgres_port),
                "KAFKA_PORT": str(self.kafka_port),
                "KAFKA_CONTROLLER_PORT": str(self.base_port + 93),
                "KAFKA_EXTRA_LISTENERS": listeners,
                "GATEWAY_PORT": str(self.base_port + 80),
                "GITHUB_EMULATOR_PORT": str(self.base_port),
                **{
                    f"{service.upper()}_PORT": str(self.base_port + 1 + self._offset(service))
                    for service in SERVICES
                },
                **RUN_SETTINGS,
            }
        )
        return env

    def cluster_config(self, base: Mapping[str, str]) -> ClusterConfig:
        """The cluster, each service reaching PostgreSQL and Kafka through its proxies."""
        config = ClusterConfig.from_env(self.environ(base))
        overrides = {}
        for service in SERVICES:
            maintenance = (
                f"postgresql://postgres@{HOST}:{self.postgres_proxy(service).listen_port}/postgres"
            )
            database = postgres.database_url(maintenance, f"codeflow_{service}")
            overrides[service] = {
                f"{service.upper()}_DATABASE_URL": database,
                "DATABASE_URL": database,
                "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{self.kafka_proxy(service).listen_port}",
            }
        return replace(config, service_overrides=overrides)
