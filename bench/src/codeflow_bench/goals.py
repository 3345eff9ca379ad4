"""The issue's goals, checked against a run's figures (a report, never a failure)."""

from __future__ import annotations

from codeflow_bench.results import Comparison, Goal, Run
from codeflow_bench.target import SERVICES

IDLE_LIMIT_MB = 150.0
B7_P50_MS = 20.0
B7_P99_MS = 100.0
B7_CASES = ("at idle", "under B1")


def _ratio(run: Run, benchmark: str, case: str, metric: str, baseline: str) -> float | None:
    for c in run.comparisons:
        if (c.benchmark, c.case, c.metric, c.baseline_label) == (benchmark, case, metric, baseline):
            return c.ratio
    return None


def _find(run: Run, benchmark: str) -> Comparison | None:
    return next((c for c in run.comparisons if c.benchmark == benchmark), None)


def evaluate_goals(run: Run) -> list[Goal]:
    goals: list[Goal] = []
    b1 = run.series.get("B1", {})
    top = max((int(c) for c in b1.get("gateway", {})), default=None)
    if top is not None:
        for name, benchmark, case, threshold in (
            (f"B1 through the gateway, concurrency {top}", "B1", f"gateway c={top}", 0.5),
            (f"B1 called directly, concurrency {top}", "B2", f"direct with JWT c={top}", 0.8),
        ):
            goals.append(
                Goal(
                    name,
                    f">= {threshold}x the bare ASGI baseline's throughput",
                    _ratio(run, benchmark, case, "throughput", "bare ASGI"),
                    threshold,
                    at_least=True,
                )
            )
    if "16" in b1.get("gateway", {}):
        goals.append(
            Goal(
                "B1 at concurrency 16 (through the gateway)",
                "p99 < 50 ms",
                b1["gateway"]["16"]["p99_ms"],
                50.0,
                at_least=False,
            )
        )
    for benchmark, threshold, target, at_least in (
        ("B3", 0.8, ">= 0.8x the batching raw consumer's events/s", True),
        ("B4", 0.7, ">= 0.7x the raw producer's messages/s", True),
        ("B5", 5.0, "<= 5x the raw deletes' time", False),
    ):
        found = _find(run, benchmark)
        if found is not None:
            goals.append(
                Goal(
                    benchmark,
                    target,
                    found.ratio,
                    threshold,
                    at_least=at_least if benchmark != "B5" else False,
                )
            )
    b7 = run.series.get("B7", {})
    for case in B7_CASES:
        for name, threshold in (("p50", B7_P50_MS), ("p99", B7_P99_MS)):
            if b7.get(case, {}).get(f"{name}_ms") is not None:
                goals.append(
                    Goal(
                        f"B7 {case}, {name}",
                        f"auth commit → visible in profiles, {name} ≤ {threshold:.0f} ms",
                        b7[case][f"{name}_ms"],
                        threshold,
                        at_least=False,
                    )
                )
    idle = run.memory.get("idle", {})
    for service in SERVICES:
        if idle.get(service) is not None:
            goals.append(
                Goal(
                    f"{service} at idle",
                    f"RSS < {IDLE_LIMIT_MB:.0f} MB",
                    idle[service],
                    IDLE_LIMIT_MB,
                    at_least=False,
                )
            )
    return goals
