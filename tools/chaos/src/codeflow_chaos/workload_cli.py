"""``python -m codeflow_chaos workload``: the workload alone, against a running cluster."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codeflow_chaos.plans import Pace
from codeflow_chaos.workload import run_workload


def add_workload_parser(subparsers: Any) -> None:
    """The ``workload`` subcommand, on ``subparsers`` (from ``add_subparsers``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "workload",
        help="simulated people against a running cluster, each operation to a history file",
    )
    parser.add_argument("--gateway", required=True, help="the gateway's URL")
    parser.add_argument("--emulator", required=True, help="GitHub's stand-in's URL")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--history", type=Path, required=True, help="the JSON-lines file")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"))
    parser.add_argument("--away", type=float, nargs=2, default=(5.0, 30.0), metavar=("MIN", "MAX"))
    parser.add_argument("--start-within", type=float, default=10.0)
    parser.add_argument("--quiet-share", type=float, default=0.02)
    parser.add_argument(
        "--quiet-for", type=float, default=90.0, help="past the janitor's inactivity threshold"
    )
    parser.add_argument("--client-timeout", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    pace = Pace(
        think=tuple(args.think),
        away=tuple(args.away),
        start_within=args.start_within,
        quiet_share=args.quiet_share,
        quiet_for=args.quiet_for,
    )
    summary = asyncio.run(_workload(args, pace))
    print(json.dumps(asdict(summary), indent=2, sort_keys=True))
    return 0


async def _workload(args: argparse.Namespace, pace: Pace) -> Any:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return await run_workload(
        gateway_url=args.gateway,
        emulator_url=args.emulator,
        seed=args.seed,
        people=args.people,
        duration=args.duration,
        history=args.history,
        pace=pace,
        client_timeout=args.client_timeout,
        concurrency=args.concurrency,
        stop=stop,
    )
