"""``python -m codeflow_bench run --mode full|smoke`` (inside ``cluster run``), or ``report FILE``.

``run`` measures every benchmark against the cluster the environment names, then writes
``<results>/<timestamp>.json``, ``<timestamp>.md`` and the plots. It exits 1 when a benchmark
could not run (never because a figure is slow), 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codeflow_bench import dashboard, events, latency, machine, plots, signin_bench
from codeflow_bench.cascade import run_b5
from codeflow_bench.goals import evaluate_goals
from codeflow_bench.plan import PLANS, Plan
from codeflow_bench.report import render
from codeflow_bench.results import Run
from codeflow_bench.settle import cluster_busy, settle
from codeflow_bench.target import Target

logger = logging.getLogger("codeflow.bench")

Step = Callable[[Target, Plan, Run, Path], Awaitable[None]]
STEPS: dict[str, Step] = {
    "b1": dashboard.run_b1_b2,
    "b3": events.run_b3,
    "b4": events.run_b4,
    "b5": run_b5,
    "b6": signin_bench.run_b6,
    "b7": latency.run_b7,
}


async def measure(plan: Plan, only: list[str], results_dir: Path) -> Run:
    target = Target.from_env()
    run = Run(
        mode=plan.mode,
        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine.describe(target),
        settings=plan.to_json(),
    )
    for name in only:
        settling = await settle(cluster_busy(target), longest=plan.settle_longest)
        run.figures[f"{name.upper()} began after the cluster settled for (s)"] = settling.waited
        run.figures[f"{name.upper()} cluster CPU as it began (% of one core)"] = settling.busy
        if not settling.settled:
            logger.warning(
                "%s: the cluster still uses %.0f%% of a core after %.0f s; starting anyway",
                name.upper(),
                settling.busy,
                settling.waited,
            )
        began = time.monotonic()
        logger.info("%s: starting", name.upper())
        try:
            await STEPS[name](target, plan, run, results_dir)
        except Exception as error:  # a benchmark that can't run is reported, the rest go on
            logger.error("%s failed: %s", name.upper(), error)
            run.errors.append(f"{name.upper()} did not run: {type(error).__name__}: {error}")
            traceback.print_exc()
        run.figures[f"{name.upper()} wall time (s)"] = round(time.monotonic() - began, 1)
        logger.info("%s: done in %.1f s", name.upper(), time.monotonic() - began)
    run.goals = evaluate_goals(run)
    run.finished_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return run


def write_outputs(run_json: dict[str, Any], results_dir: Path, stem: str) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / f"{stem}.json"
    json_path.write_text(json.dumps(run_json, indent=2, default=str) + "\n")
    written = [json_path]
    pngs: list[Path] = []
    if run_json.get("series", {}).get("B1"):
        pngs = plots.plot_b1(run_json["series"]["B1"], results_dir, stem)
        written += pngs
    report = results_dir / f"{stem}.md"
    report.write_text(render(run_json, plots=[p.name for p in pngs]))
    written.append(report)
    return written


def configure_logging(results_dir: Path) -> None:
    """Progress on the terminal; everything else (the in-process consumer logs each message,
    as the services do) into ``<results>/logs/bench.log``."""
    (results_dir / "logs").mkdir(parents=True, exist_ok=True)
    form = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    to_file = logging.FileHandler(results_dir / "logs" / "bench.log")
    to_file.setFormatter(form)
    root = logging.getLogger()
    root.handlers[:] = [to_file]
    root.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(console)
    logging.getLogger("faststream").propagate = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeflow_bench")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="run the benchmarks against the cluster")
    run_cmd.add_argument("--mode", choices=sorted(PLANS), default="full")
    run_cmd.add_argument("--only", default=",".join(STEPS), help="e.g. b1,b3")
    run_cmd.add_argument("--results", type=Path, default=Path("bench/results"))
    report_cmd = commands.add_parser("report", help="render a results JSON again")
    report_cmd.add_argument("json", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        configure_logging(args.results)

    if args.command == "report":
        run_json = json.loads(args.json.read_text())
        for path in write_outputs(run_json, args.json.parent, args.json.stem):
            print(path)
        return 0

    only = [name.strip().lower() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in STEPS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    plan = PLANS[args.mode]
    stem = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ("-smoke" if plan.mode == "smoke" else "")
    run = asyncio.run(measure(plan, only, args.results))
    for path in write_outputs(run.to_json(), args.results, stem):
        print(path)
    if run.errors:
        print("errors:\n  " + "\n  ".join(run.errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
