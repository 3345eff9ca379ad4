"""The local cluster's ports, URLs and each process's environment, read from the environment.

Everything listens on 127.0.0.1; only the gateway's routes are meant to be used from outside
the machine's own processes. Every port can be moved with a variable, so a second cluster
(a test's, another checkout's) can run beside the first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codeflow_infra import postgres
from codeflow_infra.config import HOST, ConfigError, InfraConfig, env_port
from codeflow_infra.kafka_secrets import LocalKafkaSecrets

#: The services in the order they start (auth first: the others fetch its JWKS).
SERVICES = ("auth", "profiles", "repositories", "janitor")

DEFAULT_SERVICE_PORTS: Mapping[str, int] = {
    "auth": 8001,
    "profiles": 8002,
    "repositories": 8003,
    "janitor": 8004,
}
DEFAULT_GATEWAY_PORT = 8080
DEFAULT_EMULATOR_PORT = 9000

REPLICA_PORT_STEP = 100
"""Replica n of a service listens on the service's port plus (n - 1) times this."""
MAX_REPLICAS = 9

#: The OAuth app the GitHub emulator registers for loopback callbacks (its fixtures').
DEV_GITHUB_CLIENT_ID = "codeflow-dev-client"
DEV_GITHUB_CLIENT_SECRET = "codeflow-dev-secret"  # noqa: S105 - the emulator's, not a secret


@dataclass(frozen=True)
class ClusterConfig:
    """What `cluster up` starts and how each process is configured.

    `environ` is the environment the cluster was started from; every process inherits it,
    with the cluster's own settings laid over it.
    """

    infra: InfraConfig
    environ: Mapping[str, str]
    service_ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SERVICE_PORTS))
    replicas: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 1))
    """How many processes of each service run, all in the service's one consumer group."""
    gateway_port: int = DEFAULT_GATEWAY_PORT
    emulator_port: int = DEFAULT_EMULATOR_PORT
    service_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per service, variables laid over its environment last (the fault soak points a
    service's ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` at proxies this way)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClusterConfig:
        env = dict(os.environ if environ is None else environ)
        ports = {
            name: env_port(env, f"{name.upper()}_PORT", default)
            for name, default in DEFAULT_SERVICE_PORTS.items()
        }
        every = _replicas(env, "CODEFLOW_REPLICAS", 1)
        config = cls(
            infra=InfraConfig.from_env(env),
            environ=env,
            service_ports=ports,
            replicas={name: _replicas(env, f"{name.upper()}_REPLICAS", every) for name in SERVICES},
            gateway_port=env_port(env, "GATEWAY_PORT", DEFAULT_GATEWAY_PORT),
            emulator_port=env_port(env, "GITHUB_EMULATOR_PORT", DEFAULT_EMULATOR_PORT),
        )
        config.check_ports()
        return config

    def check_ports(self) -> None:
        """Refuse two pieces of the cluster (or the infrastructure) on one port."""
        ports = {
            "POSTGRES_PORT": self.infra.postgres_port,
            "KAFKA_PORT": self.infra.kafka_port,
            "KAFKA_CONTROLLER_PORT": self.infra.kafka_controller_port,
            "GATEWAY_PORT": self.gateway_port,
            **{
                f"{name.upper()}_PORT" + (f" (replica {n})" if n > 1 else ""): port
                for name in self.service_ports
                for n, port in enumerate(self.replica_ports(name), start=1)
            },
        }
        if self.uses_emulator:
            ports["GITHUB_EMULATOR_PORT"] = self.emulator_port
        seen: dict[int, str] = {}
        for name, port in ports.items():
            if port in seen:
                raise ConfigError(f"{name} and {seen[port]} are both {port}")
            seen[port] = name

    @property
    def local_dir(self) -> Path:
        return self.infra.local_dir

    @property
    def uses_emulator(self) -> bool:
        """No GitHub OAuth app is configured, so the local GitHub stand-in takes its place."""
        return not self.environ.get("GITHUB_CLIENT_ID", "").strip()

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://{HOST}:{self.emulator_port}"

    @property
    def public_url(self) -> str:
        """Where browsers reach CodeFlow: `AUTH_URL` (or the seed's `NEXTAUTH_URL`) if set."""
        for name in ("AUTH_URL", "NEXTAUTH_URL"):
            value = self.environ.get(name, "").strip()
            if value:
                return value.rstrip("/")
        return self.gateway_url

    @property
    def jwt_issuer(self) -> str:
        # Auth names itself by its public URL, so that is what every service must expect.
        return f"{self.public_url}/auth"

    @property
    def jwks_url(self) -> str:
        # Straight to auth, not through the gateway: the services start before it.
        return f"{self.service_url('auth')}/auth/.well-known/jwks.json"

    def replica_ports(self, name: str) -> list[int]:
        """The port of each of service ``name``'s replicas, the first being the service's."""
        first = self.service_ports[name]
        return [first + REPLICA_PORT_STEP * n for n in range(self.replicas.get(name, 1))]

    def service_url(self, name: str) -> str:
        return f"http://{HOST}:{self.service_ports[name]}"

    def database_url(self, name: str) -> str:
        """Service `name`'s own database on the infrastructure's PostgreSQL server."""
        return postgres.database_url(self.infra.postgres_url, f"codeflow_{name}")

    def service_env(self, name: str, port: int | None = None) -> dict[str, str]:
        """The environment of service `name` (its replica on `port`), for `migrate` and
        `serve`."""
        env = dict(self.environ)
        env.setdefault("CODEFLOW_ENV", "development")
        database_url = self.database_url(name)
        prefix = name.upper()
        env.update(
            {
                # Both names: the prefixed one wins, and the bare one (which the infrastructure
                # exports as its maintenance database) must not point anywhere else.
                f"{prefix}_DATABASE_URL": database_url,
                "DATABASE_URL": database_url,
                f"{prefix}_PORT": str(port or self.service_ports[name]),
                "KAFKA_BOOTSTRAP_SERVERS": self.infra.bootstrap_servers,
                "AUTH_URL": self.public_url,
                "CODEFLOW_JWKS_URL": self.jwks_url,
                "CODEFLOW_JWT_ISSUER": self.jwt_issuer,
                # Auth's internal routes are never behind the gateway: straight to auth.
                "REPOSITORIES_AUTH_INTERNAL_URL": self.service_url("auth"),
            }
        )
        if self.uses_emulator:
            env.update(
                {
                    "GITHUB_CLIENT_ID": DEV_GITHUB_CLIENT_ID,
                    "GITHUB_CLIENT_SECRET": DEV_GITHUB_CLIENT_SECRET,
                    "GITHUB_OAUTH_BASE_URL": self.emulator_url,
                    "GITHUB_API_BASE_URL": self.emulator_url,
                }
            )
        local_kafka = (None, self.infra.local_kafka_bootstrap_servers)
        if (
            self.infra.kafka_security == "scram"
            and self.infra.kafka_bootstrap_servers in local_kafka
        ):
            # The local broker in secure mode: the service signs in as its own principal
            # (its secrets are made here if the broker has not made them yet).
            secrets = LocalKafkaSecrets.of(self.infra)
            secrets.ensure()
            env.update(secrets.environment(name))
        env.update(self.service_overrides.get(name, {}))
        return env

    def emulator_env(self) -> dict[str, str]:
        return dict(self.environ)


def _replicas(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        count = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of replicas") from None
    if not 1 <= count <= MAX_REPLICAS:
        raise ConfigError(f"{name}={count}: give 1 to {MAX_REPLICAS} replicas")
    return count
