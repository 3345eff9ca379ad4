"""The whole local cluster: infrastructure, topics, migrations, services, emulator, gateway.

`up` starts what is not running and waits until everything is ready; what already runs is
left alone, so a second `up` changes nothing. `down` stops all of it, the infrastructure
last. Pid files are in `.local/run/`, logs in `.local/logs/`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from codeflow_contracts.topics import ALL_TOPICS
from codeflow_infra import gateway, launcher, processes
from codeflow_infra.blocking import run_blocking
from codeflow_infra.cluster_config import SERVICES, ClusterConfig
from codeflow_infra.components import Component, ComponentError
from codeflow_infra.kafka import create_topics

logger = logging.getLogger("codeflow_infra")

READY_TIMEOUT = 120.0
MIGRATE_TIMEOUT = 300.0
TOPIC_PARTITIONS = 3
EMULATOR = "github-emulator"


def service_available(name: str) -> bool:
    """True once package `codeflow_<name>` can be run with `python -m`."""
    try:
        return importlib.util.find_spec(f"codeflow_{name}.__main__") is not None
    except ModuleNotFoundError:
        return False


def _python_m(module: str) -> list[str]:
    # This interpreter: the workspace's environment, where every service is installed.
    return [sys.executable, "-m", module]


class Cluster:
    """The cluster's components as configured by a `ClusterConfig`."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        infra = config.infra
        self.run_dir = infra.run_dir
        self.logs_dir = infra.logs_dir
        self.gateway_prefix = infra.local_dir / "gateway"

    def service_process(self, name: str, replica: int = 1) -> Component:
        """Replica ``replica`` (from 1) of service ``name``; the first is named as the
        service, the others ``<name>-<n>`` (their pid files and logs too)."""
        port = self.config.replica_ports(name)[replica - 1]
        return Component(
            name=name if replica == 1 else f"{name}-{replica}",
            argv=[*_python_m(f"codeflow_{name}"), "serve", "--port", str(port)],
            port=port,
            ready_path="/readyz",
            run_dir=self.run_dir,
            logs_dir=self.logs_dir,
            cwd=self.config.local_dir,
            env=self.config.service_env(name, port),
            marker=f"codeflow_{name}",
        )

    def service_replicas(self, name: str) -> list[Component]:
        return [
            self.service_process(name, n) for n in range(1, self.config.replicas.get(name, 1) + 1)
        ]

    def emulator_process(self) -> Component:
        return Component(
            name=EMULATOR,
            argv=[*_python_m("codeflow_github_emulator"), "--port", str(self.config.emulator_port)],
            port=self.config.emulator_port,
            ready_path="/_emulator/users",
            run_dir=self.run_dir,
            logs_dir=self.logs_dir,
            cwd=self.config.local_dir,
            env=self.config.emulator_env(),
            marker="codeflow_github_emulator",
        )

    def gateway_process(self) -> Component:
        nginx = gateway.nginx_binary(self.config.environ)
        if nginx is None:
            raise gateway.GatewayError(
                "nginx is not installed (Debian: apt-get install nginx), or NGINX does not "
                "name an executable"
            )
        return gateway.gateway_component(
            nginx=nginx,
            prefix=self.gateway_prefix,
            port=self.config.gateway_port,
            run_dir=self.run_dir,
            logs_dir=self.logs_dir,
        )

    def gateway_settings(self) -> gateway.GatewaySettings:
        # Every service is routed, built or not: a missing one answers a 502 problem.
        rate, burst = gateway.signin_limit(self.config.environ)
        write_rate, write_burst = gateway.write_limit(self.config.environ)
        return gateway.GatewaySettings(
            prefix=self.gateway_prefix,
            port=self.config.gateway_port,
            upstreams={
                name: [f"127.0.0.1:{port}" for port in self.config.replica_ports(name)]
                for name in SERVICES
            },
            auth_cache_seconds=gateway.auth_cache_seconds(self.config.environ),
            signin_rate=rate,
            signin_burst=burst,
            write_rate=write_rate,
            write_burst=write_burst,
            connection_limit=gateway.connection_limit(self.config.environ),
            worker_user=gateway.worker_user(),
            public_url=self.config.public_url,
            trusted_proxies=gateway.trusted_proxies(self.config.environ),
            web_root=gateway.web_root_path(self.config.infra.repo_root),
        )

    def available_services(self) -> list[str]:
        return [name for name in SERVICES if service_available(name)]

    def components(self) -> list[Component]:
        """Everything `down` stops, in the order it stops them (the gateway last)."""
        found = [replica for name in SERVICES for replica in self.service_replicas(name)]
        found.append(self.emulator_process())
        nginx = gateway.nginx_binary(self.config.environ)
        if nginx is not None:
            found.append(self.gateway_process())
        return found


@contextmanager
def exclusive(config: ClusterConfig) -> Iterator[None]:
    """Serialise `up` and `down` on one local directory (the infrastructure has its own lock)."""
    with launcher.lock_file(config.infra.run_dir / "cluster.lock"):
        yield


def up(config: ClusterConfig) -> Cluster:
    """Start whatever is not running and return once everything answers as ready."""
    return _up(config)[0]


def run(config: ClusterConfig, argv: list[str], *, ephemeral: bool = False) -> int:
    """Run ``argv`` with the whole cluster up; stop afterwards only what this call started.

    The command gets ``CODEFLOW_GATEWAY_URL`` (and ``CODEFLOW_EMULATOR_URL`` when GitHub is
    emulated) and the infrastructure's ``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS`` and
    ``CODEFLOW_LOCAL_DIR``. ``ephemeral``: the local directory belongs to this run; what an
    earlier run left there is stopped and deleted first, and everything (processes and data;
    the logs stay) goes when the command ends, however it ends.
    """
    if ephemeral:
        discard(config)
    cluster = Cluster(config)
    already = {c.name for c in cluster.components() if c.pid() is not None}
    infra_before = launcher.running(config.infra)
    try:
        _up(config)
        env = dict(os.environ)
        env["CODEFLOW_GATEWAY_URL"] = config.gateway_url
        env["DATABASE_URL"] = config.infra.postgres_url
        env["KAFKA_BOOTSTRAP_SERVERS"] = config.infra.bootstrap_servers
        env.update(launcher.kafka_client_env(config.infra))
        env["CODEFLOW_LOCAL_DIR"] = str(config.infra.local_dir)
        if config.uses_emulator:
            env["CODEFLOW_EMULATOR_URL"] = config.emulator_url
        return processes.run_foreground(argv, env)
    finally:
        if ephemeral:
            discard(config)
        else:
            _stop_what_was_started(config, cluster, already, infra_before)


def _stop_what_was_started(
    config: ClusterConfig, cluster: Cluster, already: set[str], infra_before: launcher.Started
) -> None:
    # Also when starting failed half-way: what this call started goes, nothing else.
    with exclusive(config):
        for component in cluster.components():
            if component.name not in already:
                component.stop()
    now = launcher.running(config.infra)
    started = launcher.Started(
        postgres=now.postgres and not infra_before.postgres,
        kafka=now.kafka and not infra_before.kafka,
    )
    if started.postgres or started.kafka:
        launcher.down(config.infra, only=started)


def _up(config: ClusterConfig) -> tuple[Cluster, launcher.Started]:
    cluster = Cluster(config)
    nginx = cluster.gateway_process()  # no nginx: say so before starting anything
    with exclusive(config):
        infra_started = launcher.up(config.infra)
        created = run_blocking(
            create_topics(
                config.infra.bootstrap_servers,
                ALL_TOPICS,
                TOPIC_PARTITIONS,
                security=launcher.kafka_admin_security(config.infra),
            )
        )
        if created:
            logger.info("created topics: %s", ", ".join(created))
        waiting: list[Component] = []
        if config.uses_emulator:
            waiting.append(_start(cluster.emulator_process()))
        else:
            logger.info("GITHUB_CLIENT_ID is set: signing in with GitHub itself, no emulator")
        available = cluster.available_services()
        for name in SERVICES:
            if name not in available:
                logger.info("%s: skipped, codeflow_%s has no __main__ yet", name, name)
        # Each service's database is migrated once, by its first replica's environment,
        # when none of its replicas runs yet.
        _migrate(
            [
                cluster.service_process(name)
                for name in available
                if all(replica.pid() is None for replica in cluster.service_replicas(name))
            ]
        )
        waiting.extend(
            _start(replica) for name in available for replica in cluster.service_replicas(name)
        )
        _ensure_gateway(cluster, nginx)
        waiting.append(nginx)
        for component in waiting:
            component.wait_ready(READY_TIMEOUT)
    return cluster, infra_started


def _start(component: Component) -> Component:
    pid = component.pid()
    if pid is None:
        component.start()
    else:
        logger.info("%s already running (pid %d)", component.name, pid)
    return component


def _migrate(services: list[Component]) -> None:
    """Run `python -m codeflow_<name> migrate` for each service, all at once."""
    running: list[tuple[Component, subprocess.Popen[bytes]]] = []
    for service in services:
        argv = [*_python_m(f"codeflow_{service.name}"), "migrate"]
        service.log_file.parent.mkdir(parents=True, exist_ok=True)
        with service.log_file.open("ab") as log:
            log.write(processes.log_banner(argv))
            log.flush()
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=service.cwd,
                env=dict(service.env),
            )
        running.append((service, child))
    failed = []
    for service, child in running:
        try:
            code = child.wait(MIGRATE_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        if code != 0:
            failed.append(f"{service.name}:\n{processes.log_tail(service.log_file)}")
        else:
            logger.info("%s: database migrated", service.name)
    if failed:
        raise ComponentError("migrations failed for " + "\n".join(failed))


def _ensure_gateway(cluster: Cluster, component: Component) -> None:
    """Render the configuration; start nginx, or reload it if the configuration changed."""
    settings = cluster.gateway_settings()
    template = gateway.template_path(cluster.config.infra.repo_root).read_text()
    changed = gateway.write_config(settings.prefix, gateway.render(template, settings))
    running = component.pid() is not None
    if running and not changed:
        logger.info("gateway already running (pid %d)", component.pid())
        return
    nginx = component.argv[0]
    gateway.check_config(nginx, settings.prefix)
    if running:
        gateway.reload(component)
    else:
        component.start()


def down(config: ClusterConfig) -> None:
    """Stop every component, then the infrastructure; no process is left behind."""
    cluster = Cluster(config)
    with exclusive(config):
        for component in cluster.components():
            component.stop()
        launcher.down(config.infra)


def discard(config: ClusterConfig) -> None:
    """Stop every component and the infrastructure, and delete the infrastructure's data."""
    down(config)
    launcher.discard(config.infra)


def urls(config: ClusterConfig) -> list[str]:
    """What `up` prints for people: where to go."""
    lines = [
        f"gateway         {config.gateway_url}",
        f"sign in         {config.gateway_url}/auth/signin/github",
        f"API documents   {config.gateway_url}/api/docs/",
    ]
    if config.uses_emulator:
        lines.append(f"GitHub stand-in {config.emulator_url}")
    return lines
