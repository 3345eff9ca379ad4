"""Where the local infrastructure lives and which ports it uses, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

HOST = "127.0.0.1"
DEFAULT_POSTGRES_PORT = 5432
DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA_CONTROLLER_PORT = 9093
DEFAULT_KAFKA_HEAP_OPTS = "-Xms256m -Xmx512m"

KafkaSecurityMode = Literal["plaintext", "scram"]
KAFKA_SECURITY_MODES: tuple[KafkaSecurityMode, ...] = ("plaintext", "scram")

#: The databases every service expects to find on the server.
SERVICE_DATABASES = (
    "codeflow_auth",
    "codeflow_profiles",
    "codeflow_repositories",
    "codeflow_janitor",
)


@dataclass(frozen=True)
class KafkaListener:
    """A further named listener of the broker: bound on ``port``, advertised on
    ``advertised_port`` (a proxy in front of it), so that clients that bootstrap through the
    proxy keep talking through it (the fault soak puts Toxiproxy there)."""

    name: str
    port: int
    advertised_port: int


class ConfigError(RuntimeError):
    """The environment does not describe a usable setup."""


def find_repo_root(start: Path | None = None) -> Path | None:
    """Return the nearest ancestor that holds the project's `deploy/kafka/pom.xml`.

    The search starts at `start` (default: the working directory) and falls back to the
    location of this package, which lies inside the repository in a workspace install.
    """
    candidates = [start or Path.cwd(), Path(__file__).resolve().parent]
    for candidate in candidates:
        for directory in (candidate.resolve(), *candidate.resolve().parents):
            if (directory / "deploy" / "kafka" / "pom.xml").is_file():
                return directory
    return None


def env_port(environ: Mapping[str, str], name: str, default: int) -> int:
    """The TCP port in variable `name` of `environ`, or `default` when it is unset or empty."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={port} is outside 1..65535")
    return port


@dataclass(frozen=True)
class InfraConfig:
    """Everything the launcher needs to know; build it with `InfraConfig.from_env()`.

    `database_url` and `kafka_bootstrap_servers` are set when the environment points at
    servers that someone else runs; the launcher then starts nothing for them.
    """

    local_dir: Path
    repo_root: Path | None
    postgres_port: int = DEFAULT_POSTGRES_PORT
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_CONTROLLER_PORT
    kafka_heap_opts: str = DEFAULT_KAFKA_HEAP_OPTS
    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    kafka_listeners: tuple[KafkaListener, ...] = ()
    kafka_security: KafkaSecurityMode = "plaintext"
    """``KAFKA_SECURITY``: ``scram`` runs the local broker in secure mode (SCRAM users over
    TLS, ACLs enforced; codeflow_infra.kafka_secrets); ``plaintext`` (the default) as ever."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InfraConfig:
        env = os.environ if environ is None else environ
        root_override = env.get("CODEFLOW_REPO_ROOT", "").strip()
        repo_root = Path(root_override).resolve() if root_override else find_repo_root()
        local_override = env.get("CODEFLOW_LOCAL_DIR", "").strip()
        if local_override:
            local_dir = Path(local_override).expanduser().resolve()
        elif repo_root is not None:
            local_dir = repo_root / ".local"
        else:
            raise ConfigError(
                "cannot find the CodeFlow repository (no deploy/kafka/pom.xml above the working "
                "directory); set CODEFLOW_LOCAL_DIR or CODEFLOW_REPO_ROOT"
            )
        return cls(
            local_dir=local_dir,
            repo_root=repo_root,
            postgres_port=env_port(env, "POSTGRES_PORT", DEFAULT_POSTGRES_PORT),
            kafka_port=env_port(env, "KAFKA_PORT", DEFAULT_KAFKA_PORT),
            kafka_controller_port=env_port(
                env, "KAFKA_CONTROLLER_PORT", DEFAULT_KAFKA_CONTROLLER_PORT
            ),
            kafka_heap_opts=env.get("KAFKA_HEAP_OPTS", "").strip() or DEFAULT_KAFKA_HEAP_OPTS,
            database_url=env.get("DATABASE_URL", "").strip() or None,
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or None,
            kafka_listeners=kafka_listeners(env.get("KAFKA_EXTRA_LISTENERS", "")),
            kafka_security=kafka_security_mode(env.get("KAFKA_SECURITY", "")),
        )

    def __post_init__(self) -> None:
        if self.kafka_security == "scram" and self.kafka_listeners:
            raise ConfigError(
                "KAFKA_SECURITY=scram and KAFKA_EXTRA_LISTENERS don't go together: the further "
                "listeners are PLAINTEXT, which would let anyone past the ACLs"
            )

    @property
    def is_make_ups(self) -> bool:
        """Whether this is the directory `make up` keeps its cluster in (the default one)."""
        return self.repo_root is not None and self.local_dir == self.repo_root / ".local"

    @property
    def logs_dir(self) -> Path:
        return self.local_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.local_dir / "run"

    @property
    def postgres_dir(self) -> Path:
        return self.local_dir / "postgres"

    @property
    def kafka_dir(self) -> Path:
        return self.local_dir / "kafka"

    def pid_file(self, name: str) -> Path:
        """Where the launcher records the pid of its process ``name``."""
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        """Where process ``name`` writes its log."""
        return self.logs_dir / f"{name}.log"

    @property
    def env_file(self) -> Path:
        return self.local_dir / "infra.env"

    @property
    def kafka_deploy_dir(self) -> Path:
        if self.repo_root is None:
            raise ConfigError(
                "cannot find deploy/kafka of the CodeFlow repository; set CODEFLOW_REPO_ROOT"
            )
        return self.repo_root / "deploy" / "kafka"

    @property
    def local_postgres_url(self) -> str:
        """The maintenance database of the launcher-managed server."""
        return f"postgresql://postgres@{HOST}:{self.postgres_port}/postgres"

    @property
    def local_kafka_bootstrap_servers(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def postgres_url(self) -> str:
        """The maintenance database in use: the external one if given, else the local one."""
        return self.database_url or self.local_postgres_url

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or self.local_kafka_bootstrap_servers


def kafka_security_mode(raw: str) -> KafkaSecurityMode:
    """``KAFKA_SECURITY``: ``plaintext`` (the default when empty) or ``scram``."""
    mode = raw.strip().lower() or "plaintext"
    for known in KAFKA_SECURITY_MODES:
        if mode == known:
            return known
    raise ConfigError(f"KAFKA_SECURITY={raw!r} is not one of {', '.join(KAFKA_SECURITY_MODES)}")


def kafka_listeners(raw: str) -> tuple[KafkaListener, ...]:
    """``KAFKA_EXTRA_LISTENERS``: ``NAME=PORT@ADVERTISED_PORT``, comma-separated."""
    found = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, ports = item.partition("=")
        port, _, advertised = ports.partition("@")
        if not (name.isidentifier() and name.isupper() and port.isdigit() and advertised.isdigit()):
            raise ConfigError(
                f"KAFKA_EXTRA_LISTENERS: {item!r} is not NAME=PORT@ADVERTISED_PORT "
                "(an upper-case name, two port numbers)"
            )
        if name in {"PLAINTEXT", "CONTROLLER"}:
            raise ConfigError(f"KAFKA_EXTRA_LISTENERS: {name} is the broker's own listener")
        found.append(KafkaListener(name, int(port), int(advertised)))
    return tuple(found)
