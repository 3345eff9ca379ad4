"""The cluster under test, as ``cluster run`` describes it in the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.postgres import database_url, libpq_url

SERVICES = ("auth", "profiles", "repositories", "janitor")
PIECES = (*SERVICES, "github-emulator", "gateway", "postgres", "kafka")


@dataclass(frozen=True)
class Target:
    gateway_url: str
    emulator_url: str
    service_urls: dict[str, str]
    maintenance_url: str
    bootstrap_servers: str
    postgres_host: str
    postgres_port: int
    run_dir: Path
    repo_root: Path

    @classmethod
    def from_env(cls) -> Target:
        config = ClusterConfig.from_env()
        maintenance = libpq_url(os.environ.get("DATABASE_URL", config.infra.postgres_url))
        return cls(
            gateway_url=config.gateway_url,
            emulator_url=config.emulator_url,
            service_urls={
                name: f"http://127.0.0.1:{port}" for name, port in config.service_ports.items()
            },
            maintenance_url=maintenance,
            bootstrap_servers=os.environ.get(
                "KAFKA_BOOTSTRAP_SERVERS", config.infra.bootstrap_servers
            ),
            postgres_host="127.0.0.1",
            postgres_port=config.infra.postgres_port,
            run_dir=config.infra.run_dir,
            repo_root=config.infra.repo_root or Path.cwd(),
        )

    def database_url(self, service: str) -> str:
        return self.database_url_named(f"codeflow_{service}")

    def database_url_named(self, name: str) -> str:
        return libpq_url(database_url(self.maintenance_url, name))

    def pid(self, piece: str) -> int | None:
        path = self.run_dir / f"{piece}.pid"
        try:
            pid = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None
