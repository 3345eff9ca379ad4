"""The `run` subcommand of `python -m codeflow_infra` and of its `cluster`: one command run
with the servers up, stopping afterwards what the run started."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

logger = logging.getLogger("codeflow_infra")


def add_run_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], *, help: str, usage: str
) -> None:
    """Add `run [--ephemeral] -- COMMAND [ARG ...]` to ``commands``."""
    run = commands.add_parser("run", help=help, usage=usage)
    run.add_argument(
        "--ephemeral",
        action="store_true",
        help="start from no data in CODEFLOW_LOCAL_DIR (stopping and deleting what an earlier "
        "run left there) and delete everything again afterwards, also when the command fails",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command to run")


def command_to_run(argv: Sequence[str], usage: str) -> list[str] | None:
    """The command after an optional `--`; None, having logged ``usage``, when there is none."""
    command = list(argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        logger.error("nothing to run: %s", usage)
        return None
    return command
