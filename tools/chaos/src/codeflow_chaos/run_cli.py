"""``python -m codeflow_chaos run``: one chaos run, its verdict and its report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import subprocess
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codeflow_chaos.fault_log import read_faults
from codeflow_chaos.history import read_history
from codeflow_chaos.plans import Pace
from codeflow_chaos.report import Run, write_report
from codeflow_chaos.soak import Outcome, Settings, WorkloadRunner, results_dir, soak
from codeflow_chaos.topology import DEFAULT_BASE_PORT, INACTIVE_AFTER_SECONDS
from codeflow_chaos.workload import run_workload
from codeflow_infra import gateway
from codeflow_infra.config import find_repo_root

logger = logging.getLogger("codeflow_chaos")

EXIT_VIOLATED = 1
OVERHEAD = 900.0
"""Seconds a run may take beyond its workload and settling before it is stopped."""


def add_run_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="start a cluster of its own, run the workload under faults, check, report",
    )
    run.add_argument(
        "--seed", type=int, default=1, help="what the people and faults are drawn from"
    )
    run.add_argument("--people", type=int, default=200, help="simulated people")
    run.add_argument(
        "--duration", type=float, default=540.0, help="seconds the workload and faults run"
    )
    run.add_argument("--faults-per-kind", type=int, default=30, help="faults planned of every kind")
    run.add_argument("--replicas", type=int, default=2, help="processes of each service")
    run.add_argument(
        "--settle-timeout",
        type=float,
        default=180.0,
        help="seconds to wait for the system to settle",
    )
    run.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"the run's ports are this plus 0-999 (default {DEFAULT_BASE_PORT})",
    )
    run.add_argument(
        "--results",
        type=Path,
        default=None,
        help="where the run's folder goes (default: chaos-results/ in the repository)",
    )
    run.set_defaults(run=run_command)


def rerun_command(args: argparse.Namespace) -> str:
    return (
        "uv run python -m codeflow_chaos run "
        f"--seed {args.seed} --people {args.people} --duration {args.duration:g} "
        f"--faults-per-kind {args.faults_per_kind} --replicas {args.replicas}"
    )


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    root = find_repo_root()
    if root is None:
        raise SystemExit("run this inside the CodeFlow repository")
    settings = Settings(
        seed=args.seed,
        people=args.people,
        duration=args.duration,
        faults_per_kind=args.faults_per_kind,
        results=results_dir(args.results or root / "chaos-results", args.seed),
        replicas=args.replicas,
        settle_timeout=args.settle_timeout,
        base_port=args.base_port,
    )
    started = datetime.now(UTC)
    outcome = asyncio.run(_bounded(soak(settings, root, _workload(settings)), settings))
    ended = datetime.now(UTC)
    history = sorted(read_history(settings.results / "history.jsonl"), key=lambda op: op.seq)
    files = write_report(
        settings.results,
        Run(
            seed=settings.seed,
            commit=_commit(root),
            command=rerun_command(args),
            started=started,
            ended=ended,
            settings={
                "people": settings.people,
                "duration_s": settings.duration,
                "faults_per_kind": settings.faults_per_kind,
                "replicas": settings.replicas,
                "inactive_after_s": INACTIVE_AFTER_SECONDS,
                "settled": outcome.settled,
                "backlog_at_check": outcome.backlog,
            },
        ),
        history,
        list(read_faults(settings.results / "faults.jsonl")),
        outcome.verdicts,
    )
    broken = [verdict.rule for verdict in outcome.verdicts if not verdict.holds]
    logger.info(
        "%s; report: %s",
        f"violated: {', '.join(broken)}" if broken else "every invariant holds",
        files.markdown,
    )
    return EXIT_VIOLATED if broken else 0


async def _bounded(run: Coroutine[Any, Any, Outcome], settings: Settings) -> Outcome:
    """``run``, cancelled (and so cleaned up) on SIGTERM, or when it overruns its time
    by far: the workload, repairs, settling and starting and stopping the cluster."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with asyncio.timeout(settings.duration + settings.settle_timeout + OVERHEAD):
        return await run


def _workload(settings: Settings) -> WorkloadRunner:
    """The workload of ``settings``' people, for the run's duration."""

    async def workload(
        gateway_url: str, emulator_url: str, history: Path, stop: asyncio.Event
    ) -> None:
        await run_workload(
            gateway_url=gateway_url,
            emulator_url=emulator_url,
            seed=settings.seed,
            people=settings.people,
            duration=settings.duration,
            history=history,
            # Quiet past the janitor's threshold and its next sweep, to be swept.
            pace=Pace(quiet_for=INACTIVE_AFTER_SECONDS * 1.5),
            # Longer than the gateway takes to answer anything (a 504 problem at worst).
            client_timeout=gateway.UPSTREAM_DEADLINE_SECONDS + 2,
            stop=stop,
        )

    return workload


def _commit(root: Path) -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", *argv], cwd=root, capture_output=True, text=True, check=False, timeout=30
        )
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
