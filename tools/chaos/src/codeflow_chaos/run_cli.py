"""``python -m codeflow_chaos run``: one chaos run, its verdict and its report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from codeflow_chaos.fault_log import read_faults
from codeflow_chaos.history import read_history
from codeflow_chaos.report import Run, write_report
from codeflow_chaos.soak import Settings, WorkloadRunner, results_dir, soak
from codeflow_chaos.topology import INACTIVE_AFTER_SECONDS
from codeflow_chaos.workload import run_workload
from codeflow_infra.config import find_repo_root

logger = logging.getLogger("codeflow_chaos")

EXIT_VIOLATED = 1


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
        "--results",
        type=Path,
        default=None,
        help="where the run's folder goes (default: chaos-results/ in the repository)",
    )


def rerun_command(args: argparse.Namespace) -> str:
    return (
        "uv run python -m codeflow_chaos run "
        f"--seed {args.seed} --people {args.people} --duration {args.duration:g} "
        f"--faults-per-kind {args.faults_per_kind} --replicas {args.replicas}"
    )


def run(args: argparse.Namespace) -> int:
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
    )
    started = datetime.now(UTC)
    outcome = asyncio.run(soak(settings, root, _workload(settings)))
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


def _workload(settings: Settings) -> WorkloadRunner:
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
            quiet_for=INACTIVE_AFTER_SECONDS * 1.5,
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
