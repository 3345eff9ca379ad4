"""`python -m codeflow_infra cluster {up,down,ps,logs}`: the local cluster from a terminal."""

from __future__ import annotations

import argparse
import logging
import subprocess
import time
from pathlib import Path

from codeflow_infra import cluster, launcher, run_cli
from codeflow_infra.cluster_config import SERVICES, ClusterConfig
from codeflow_infra.components import Component

logger = logging.getLogger("codeflow_infra")

EXIT_NOT_RUNNING = 3
LOG_NAMES = ("postgres", "kafka", cluster.EMULATOR, *SERVICES, "gateway")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cluster` and its subcommands to the CLI's subcommands."""
    parser = commands.add_parser(
        "cluster", help="the whole local cluster: services, emulator and gateway too"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("up", help="start what is not running; return when all is ready")
    actions.add_parser("down", help="stop everything, the infrastructure last")
    actions.add_parser("ps", help=f"show each piece; exit 0 if all run, {EXIT_NOT_RUNNING} if not")
    run_cli.add_run_parser(
        actions,
        help="run a command with the cluster up, then stop what this started",
        usage="python -m codeflow_infra cluster run -- COMMAND [ARG ...]",
    )
    logs = actions.add_parser("logs", help="show the logs (all, or the named pieces)")
    logs.add_argument("names", nargs="*", metavar="NAME", help=", ".join(LOG_NAMES))
    logs.add_argument("-f", "--follow", action="store_true", help="keep following them")
    logs.add_argument("-n", "--lines", type=int, default=50, help="lines of each (default 50)")


def dispatch(args: argparse.Namespace) -> int:
    config = ClusterConfig.from_env()
    action: str = args.action
    if action == "up":
        started = time.monotonic()
        cluster.up(config)
        logger.info("everything ready in %.1f s", time.monotonic() - started)
        print("\n".join(cluster.urls(config)))
        return 0
    if action == "down":
        cluster.down(config)
        return 0
    if action == "run":
        command = run_cli.command_to_run(
            args.argv, "python -m codeflow_infra cluster run -- COMMAND"
        )
        if command is None:
            return 2
        return cluster.run(config, command, ephemeral=args.ephemeral)
    if action == "ps":
        lines, all_up = status(config)
        print("\n".join(lines))
        return 0 if all_up else EXIT_NOT_RUNNING
    return show_logs(config, list(args.names), follow=args.follow, lines=args.lines)


def status(config: ClusterConfig) -> tuple[list[str], bool]:
    """One line per piece (state, readiness, address), and whether everything serves."""
    lines, all_up = launcher.status(config.infra)
    the_cluster = cluster.Cluster(config)
    for component in the_cluster.components():
        line, up = _describe(config, component)
        lines.append(line)
        all_up = all_up and up
    return lines, all_up


def _describe(config: ClusterConfig, component: Component) -> tuple[str, bool]:
    if component.name == cluster.EMULATOR and not config.uses_emulator:
        return f"{component.name:<16} not used (GITHUB_CLIENT_ID is set)", True
    service = component.marker.removeprefix("codeflow_")  # a replica runs its service
    if service in SERVICES and not cluster.service_available(service):
        return f"{component.name:<16} not built yet (no codeflow_{service}.__main__)", True
    pid = component.pid()
    if pid is None:
        return f"{component.name:<16} {'stopped':<32} {component.url}", False
    ready = component.is_ready()
    state = f"running, pid {pid}, {'ready' if ready else 'NOT READY'}"
    return f"{component.name:<16} {state:<32} {component.url}", ready


def log_files(config: ClusterConfig, names: list[str]) -> list[Path]:
    """The log files of the named pieces (all of them when none is named)."""
    unknown = [name for name in names if name not in LOG_NAMES]
    if unknown:
        raise SystemExit(f"unknown piece {', '.join(unknown)}; choose from {', '.join(LOG_NAMES)}")
    infra = config.infra
    files = []
    for name in names or LOG_NAMES:
        files.append(infra.log_file(name))
        if name in SERVICES:  # its other replicas' logs
            files.extend(infra.log_file(f"{name}-{n}") for n in range(2, config.replicas[name] + 1))
        if name == "gateway":
            files.append(config.local_dir / "gateway" / "logs" / "access.log")
    return files


def show_logs(config: ClusterConfig, names: list[str], *, follow: bool, lines: int) -> int:
    files = log_files(config, names)
    if not follow:
        files = [path for path in files if path.exists()]
        if not files:
            print(f"no logs yet in {config.infra.logs_dir}")
            return 0
    argv = ["tail", "-n", str(lines), *(["-F"] if follow else []), *map(str, files)]
    try:
        return subprocess.run(argv, check=False).returncode
    except KeyboardInterrupt:  # the way to stop following
        return 0
