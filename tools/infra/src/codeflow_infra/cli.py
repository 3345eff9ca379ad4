"""`python -m codeflow_infra {up,down,reset,status,run,jars,kafka-acls,cluster}`: the operator's
commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from codeflow_infra import cluster_cli, launcher, processes, run_cli
from codeflow_infra.components import ComponentError
from codeflow_infra.config import ConfigError, InfraConfig
from codeflow_infra.gateway import GatewayError
from codeflow_infra.kafka_acls import kafka_acls_commands
from codeflow_infra.kafka_broker import KafkaStartError, LocalKafka
from codeflow_infra.postgres_server import PostgresStartError

logger = logging.getLogger("codeflow_infra")

EXIT_NOT_RUNNING = 3
EXIT_COMMAND_NOT_FOUND = 127


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m codeflow_infra",
        description="Local PostgreSQL and Kafka for CodeFlow, without Docker.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("up", help="start what is not running, wait until both serve")
    commands.add_parser("down", help="stop both; data is kept")
    commands.add_parser("reset", help="stop both and delete their data")
    commands.add_parser(
        "status", help=f"show what runs; exit 0 if both do, {EXIT_NOT_RUNNING} if not"
    )
    commands.add_parser("jars", help="collect the Kafka jars with Maven unless present")
    commands.add_parser(
        "kafka-acls",
        help="print the kafka-acls.sh commands granting each service's principal its ACLs "
        "(deploy/README.md, 'Kafka security')",
    )
    run_cli.add_run_parser(
        commands,
        help="run a command with the infrastructure up, then stop what this started",
        usage="python -m codeflow_infra run -- COMMAND [ARG ...]",
    )
    cluster_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tag = "cluster" if args.command == "cluster" else "infra"
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {tag}: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    try:
        if args.command == "cluster":
            return cluster_cli.dispatch(args)
        config = InfraConfig.from_env()
        return _dispatch(args, config)
    except (
        ComponentError,
        ConfigError,
        GatewayError,
        KafkaStartError,
        PostgresStartError,
        TimeoutError,
    ) as error:
        logger.error("%s", error)
        return 1


def _dispatch(args: argparse.Namespace, config: InfraConfig) -> int:
    command: str = args.command
    if command == "up":
        started = time.monotonic()
        launcher.up(config)
        logger.info("infrastructure up in %.1f s", time.monotonic() - started)
        return 0
    if command == "down":
        launcher.down(config)
        return 0
    if command == "reset":
        launcher.reset(config)
        return 0
    if command == "status":
        lines, all_up = launcher.status(config)
        print("\n".join(lines))
        return 0 if all_up else EXIT_NOT_RUNNING
    if command == "kafka-acls":
        print("\n".join(kafka_acls_commands()))
        return 0
    if command == "jars":
        broker = LocalKafka(config)
        broker.ensure_jars()
        logger.info("Kafka jars in %s", broker.libs_dir)
        return 0
    command_argv = run_cli.command_to_run(
        args.argv, "python -m codeflow_infra run -- COMMAND [ARG ...]"
    )
    if command_argv is None:
        return 2
    return run(config, command_argv, ephemeral=args.ephemeral)


def run(config: InfraConfig, argv: list[str], *, ephemeral: bool = False) -> int:
    """Run `argv` with the infrastructure up; stop afterwards only what this call started.

    ``ephemeral``: the local directory belongs to this run. Whatever an earlier run left
    there (one killed before it could clean up) is stopped and deleted first, and the
    servers and their data go when the command ends, however it ends.
    """
    if ephemeral:
        launcher.discard(config)
    started = launcher.Started()
    try:
        started = launcher.up(config)
        env = dict(os.environ)
        env["DATABASE_URL"] = config.postgres_url
        env["KAFKA_BOOTSTRAP_SERVERS"] = config.bootstrap_servers
        env.update(launcher.kafka_client_env(config))
        env["CODEFLOW_LOCAL_DIR"] = str(config.local_dir)
        return processes.run_foreground(argv, env)
    finally:
        if ephemeral:
            launcher.discard(config)
        elif started.postgres or started.kafka:
            launcher.down(config, only=started)
