"""The launcher-managed Kafka broker: one KRaft node run from the jars in deploy/kafka/libs."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from string import Template

from codeflow_infra import processes
from codeflow_infra.blocking import run_blocking
from codeflow_infra.config import HOST, ConfigError, InfraConfig, KafkaListener
from codeflow_infra.kafka_acls import ADMIN, acls, all_topics, apply_acls
from codeflow_infra.kafka_client import create_topics, metadata_ready
from codeflow_infra.kafka_secrets import BROKER_PRINCIPAL, LocalKafkaSecrets
from codeflow_messaging.kafka import create_admin
from codeflow_messaging.security import PLAINTEXT, KafkaSecurity

logger = logging.getLogger("codeflow_infra")

START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


class KafkaStartError(RuntimeError):
    """The broker did not come up; the message ends with the tail of its log."""


def render_server_properties(
    template: str,
    *,
    host: str,
    port: int,
    controller_port: int,
    log_dir: Path,
    listeners: Sequence[KafkaListener] = (),
) -> str:
    """Fill in the placeholders of deploy/kafka/server.properties.template."""
    return Template(template).substitute(
        KAFKA_HOST=host,
        KAFKA_PORT=port,
        KAFKA_CONTROLLER_PORT=controller_port,
        KAFKA_LOG_DIR=str(log_dir),
        KAFKA_EXTRA_LISTENERS="".join(f",{x.name}://{host}:{x.port}" for x in listeners),
        KAFKA_EXTRA_ADVERTISED="".join(
            f",{x.name}://{host}:{x.advertised_port}" for x in listeners
        ),
        KAFKA_EXTRA_PROTOCOLS="".join(f",{x.name}:PLAINTEXT" for x in listeners),
    )


def render_secure_properties(
    template: str, *, host: str, port: int, controller_port: int, secrets: LocalKafkaSecrets
) -> str:
    """Fill in deploy/kafka/secure.properties.template (appended in secure mode)."""
    return Template(template).substitute(
        KAFKA_HOST=host,
        KAFKA_PORT=port,
        KAFKA_CONTROLLER_PORT=controller_port,
        KAFKA_TLS_DIR=str(secrets.directory),
        KAFKA_ADMIN_USER=ADMIN,
        KAFKA_ADMIN_PASSWORD=secrets.password(ADMIN),
        KAFKA_BROKER_PRINCIPAL=BROKER_PRINCIPAL,
    )


def new_cluster_id() -> str:
    """A random cluster id in Kafka's format: a UUID, URL-safe base64, no padding."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # Kafka's tools reject ids that look like options
            return cluster_id


def java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


class LocalKafka:
    """Starts, stops and inspects the broker whose files live in `config.kafka_dir`."""

    def __init__(self, config: InfraConfig) -> None:
        self.config = config
        self.data_dir = config.kafka_dir / "data"
        self.properties_file = config.kafka_dir / "server.properties"
        self.cluster_id_file = config.kafka_dir / "cluster.id"
        self.instance_file = config.kafka_dir / "instance.json"
        self.pid_file = config.pid_file("kafka")
        self.log_file = config.log_file("kafka")
        self.secrets = LocalKafkaSecrets.of(config)

    @classmethod
    def from_local_dir(cls, local_dir: Path | None = None) -> LocalKafka:
        """The broker of `local_dir` (default: from the environment), on the ports it last used."""
        config = InfraConfig.from_env()
        if local_dir is not None:
            config = replace(config, local_dir=local_dir.resolve())
        broker = cls(config)
        try:
            recorded = json.loads(broker.instance_file.read_text())
        except (OSError, ValueError):
            return broker
        return cls(
            replace(
                config,
                kafka_port=int(recorded["port"]),
                kafka_controller_port=int(recorded["controller_port"]),
                kafka_security="scram" if recorded.get("security") == 1 else "plaintext",
            )
        )

    @property
    def bootstrap_servers(self) -> str:
        return self.config.local_kafka_bootstrap_servers

    @property
    def secure(self) -> bool:
        """Whether the broker runs in secure mode (``KAFKA_SECURITY=scram``)."""
        return self.config.kafka_security == "scram"

    def security(self, principal: str = ADMIN) -> KafkaSecurity:
        """How a client signs in as ``principal`` (PLAINTEXT when the broker isn't secure)."""
        return self.secrets.security(principal) if self.secure else PLAINTEXT

    @property
    def launcher(self) -> Path:
        return self.config.kafka_deploy_dir / "kafka-run.sh"

    @property
    def libs_dir(self) -> Path:
        return self.config.kafka_deploy_dir / "libs"

    def jars_present(self) -> bool:
        return any(self.libs_dir.glob("kafka_2.13-*.jar"))

    def can_run(self) -> bool:
        """True if this machine can run the broker: a JDK, and the jars or Maven to get them."""
        try:
            deploy_dir = self.config.kafka_deploy_dir
        except ConfigError:
            return False
        has_jars = self.jars_present() or shutil.which("mvn") is not None
        return java_available() and (deploy_dir / "pom.xml").is_file() and has_jars

    def ensure_jars(self) -> None:
        if self.jars_present():
            return
        logger.info("collecting the Kafka jars with Maven into %s", self.libs_dir)
        started = time.monotonic()
        subprocess.run(["bash", str(self.launcher), "jars"], check=True)
        logger.info("Kafka jars ready in %.1f s", time.monotonic() - started)

    def pid(self) -> int | None:
        """The broker's pid if it runs, checked against its command line."""
        pid = processes.read_pid(self.pid_file)
        if pid is None or not processes.is_alive(pid):
            return None
        args = processes.cmdline(pid)
        if args and str(self.properties_file) not in args:
            return None  # the pid was reused by an unrelated process
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None

    def _write_config(self) -> None:
        template = (self.config.kafka_deploy_dir / "server.properties.template").read_text()
        self.config.kafka_dir.mkdir(parents=True, exist_ok=True)
        properties = render_server_properties(
            template,
            host=HOST,
            port=self.config.kafka_port,
            controller_port=self.config.kafka_controller_port,
            log_dir=self.data_dir,
            listeners=self.config.kafka_listeners,
        )
        if self.secure:
            self.secrets.ensure()
            secure = (self.config.kafka_deploy_dir / "secure.properties.template").read_text()
            properties += "\n" + render_secure_properties(
                secure,
                host=HOST,
                port=self.config.kafka_port,
                controller_port=self.config.kafka_controller_port,
                secrets=self.secrets,
            )
        # It holds the admin's password in secure mode.
        self.properties_file.touch(mode=0o600, exist_ok=True)
        self.properties_file.write_text(properties)

    def _format_storage(self) -> None:
        """Format the log directory once; the cluster id is kept for later formats."""
        recorded = self._recorded_instance()
        if (self.data_dir / "meta.properties").exists():
            controller_port = recorded.get("controller_port")
            if controller_port not in (None, self.config.kafka_controller_port):
                raise ConfigError(
                    f"the Kafka storage in {self.data_dir} was formatted for controller port "
                    f"{controller_port}, not {self.config.kafka_controller_port}; "
                    "run `python -m codeflow_infra reset` to start afresh"
                )
            formatted_as = "scram" if recorded.get("security") == 1 else "plaintext"
            if formatted_as != self.config.kafka_security:
                raise ConfigError(
                    f"the Kafka storage in {self.data_dir} was formatted with "
                    f"KAFKA_SECURITY={formatted_as}, not {self.config.kafka_security}; run "
                    "`python -m codeflow_infra reset` to start afresh"
                )
            return
        if not self.cluster_id_file.exists():
            self.cluster_id_file.write_text(new_cluster_id() + "\n")
        cluster_id = self.cluster_id_file.read_text().strip()
        logger.info("formatting Kafka storage in %s (cluster id %s)", self.data_dir, cluster_id)
        command = ["bash", str(self.launcher), "format", cluster_id, str(self.properties_file)]
        scram_users = self.secrets.scram_options() if self.secure else []
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(processes.log_banner(command))  # without the SCRAM passwords
            log.flush()
            result = subprocess.run(
                command + scram_users,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                check=False,
            )
        if result.returncode != 0:
            raise KafkaStartError(
                f"formatting Kafka storage failed (exit {result.returncode}); "
                f"{self.log_file} ends with:\n{processes.log_tail(self.log_file)}"
            )

    def _recorded_instance(self) -> dict[str, int]:
        try:
            data = json.loads(self.instance_file.read_text())
        except (OSError, ValueError):
            return {}
        return {key: int(value) for key, value in data.items()}

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KAFKA_HEAP_OPTS"] = self.config.kafka_heap_opts
        return env

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Start the broker unless it runs; return the seconds until it served metadata."""
        if self.is_running():
            return 0.0
        further = [listener.port for listener in self.config.kafka_listeners]
        for port in (self.config.kafka_port, self.config.kafka_controller_port, *further):
            if processes.port_accepts(HOST, port):
                raise ConfigError(
                    f"port {HOST}:{port} is taken by another process; stop it, or choose other "
                    "ports with KAFKA_PORT and KAFKA_CONTROLLER_PORT"
                )
        self.ensure_jars()
        self._write_config()
        self._format_storage()
        self.instance_file.write_text(
            json.dumps(
                {
                    "port": self.config.kafka_port,
                    "controller_port": self.config.kafka_controller_port,
                    # 1 in secure mode: the instance file holds numbers only.
                    "security": int(self.secure),
                }
            )
            + "\n"
        )
        logger.info("starting Kafka on %s (log: %s)", self.bootstrap_servers, self.log_file)
        started = time.monotonic()
        pid = processes.spawn_detached(
            ["bash", str(self.launcher), "start", str(self.properties_file)],
            log_path=self.log_file,
            cwd=self.config.kafka_dir,
            env=self._env(),
        )
        processes.write_pid(self.pid_file, pid)
        try:
            self._wait_until_serving(pid, started + timeout)
            if self.secure:
                run_blocking(self._provision())
        except BaseException:
            self.stop()
            raise
        elapsed = time.monotonic() - started
        logger.info("Kafka ready on %s in %.1f s (pid %d)", self.bootstrap_servers, elapsed, pid)
        return elapsed

    def _wait_until_serving(self, pid: int, deadline: float) -> None:
        while True:
            if not processes.is_alive(pid):
                raise KafkaStartError(
                    f"Kafka exited during start-up; {self.log_file} ends with:\n"
                    f"{processes.log_tail(self.log_file)}"
                )
            if processes.port_accepts(HOST, self.config.kafka_port) and run_blocking(
                metadata_ready(self.bootstrap_servers, security=self.security())
            ):
                return
            if time.monotonic() >= deadline:
                raise KafkaStartError(
                    f"Kafka did not serve metadata on {self.bootstrap_servers} in time; "
                    f"{self.log_file} ends with:\n{processes.log_tail(self.log_file)}"
                )
            time.sleep(0.25)

    async def _provision(self) -> None:
        """Secure mode: create every topic (services may create only their dead-letter
        topics) and grant each service's ACLs, as the admin; both are kept if present."""
        admin_security = self.security()
        await create_topics(self.bootstrap_servers, all_topics(), security=admin_security)
        admin = create_admin(
            self.bootstrap_servers, security=admin_security, client_id="codeflow-infra"
        )
        await admin.start()
        try:
            count = await apply_acls(admin, acls())
        finally:
            await admin.close()
        logger.info("Kafka secure mode: %d ACLs granted to the services' principals", count)

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the broker by SIGTERM (SIGKILL after `timeout`); True if it was running."""
        pid = processes.read_pid(self.pid_file)
        was_running = pid is not None and self.is_running()
        if pid is not None and was_running:
            processes.stop_server("Kafka", pid, signal.SIGTERM, timeout)
        processes.kill_leftovers("Kafka", self.properties_file)
        self.pid_file.unlink(missing_ok=True)
        return was_running
