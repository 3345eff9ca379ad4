"""The issue's goals, checked against a run's figures (a report, never a failure)."""

from __future__ import annotations

from codeflow_bench.memory import idle_cpu_figure
from codeflow_bench.results import Comparison, Goal, Run
from codeflow_bench.target import SERVICES

FLOOR_FIGURE = "framework floor: FastAPI /healthz / bare /healthz"
FLOOR_AT_LEAST = 0.7
B1_GATEWAY_AT_LEAST = 0.6
B1_DIRECT_AT_LEAST = 0.7
B1_P99_AT_MOST = 2.0
B3_AT_LEAST = 0.8
B4_AT_LEAST = 0.7
B5_FIGURE = "B5 saga deletions/s"
B5_AT_LEAST = 2_000.0
B6_FLOWS_AT_LEAST = 80.0
B6_P50_FIGURE = "B6 flow p50 (ms)"
B6_P50_MS = 50.0
B7_P50_MS = 20.0
B7_P99_MS = 100.0
B7_CASES = ("at idle", "under B1")
IDLE_CPU_PERCENT = 0.3
IDLE_LIMIT_MB = 100.0


def _ratio(run: Run, benchmark: str, case: str, metric: str, baseline: str) -> float | None:
    for c in run.comparisons:
        if (c.benchmark, c.case, c.metric, c.baseline_label) == (benchmark, case, metric, baseline):
            return c.ratio
    return None


def _find(run: Run, benchmark: str) -> Comparison | None:
    return next((c for c in run.comparisons if c.benchmark == benchmark), None)


def _number(run: Run, figure: str) -> float | None:
    value = run.figures.get(figure)
    return float(value) if isinstance(value, int | float) else None


def _b1_goals(run: Run) -> list[Goal]:
    b1 = run.series.get("B1", {})
    top = max((int(c) for c in b1.get("gateway", {})), default=None)
    if top is None:
        return []
    gateway, direct = f"gateway c={top}", f"direct with JWT c={top}"
    bare = "the bare ASGI baseline's"
    return [
        Goal(name, target, _ratio(run, bench, case, metric, "bare ASGI"), threshold, at_least)
        for name, target, bench, case, metric, threshold, at_least in (
            (
                f"B1 through the gateway, concurrency {top}",
                f">= {B1_GATEWAY_AT_LEAST}x {bare} throughput",
                "B1",
                gateway,
                "throughput",
                B1_GATEWAY_AT_LEAST,
                True,
            ),
            (
                f"B1 called directly, concurrency {top}",
                f">= {B1_DIRECT_AT_LEAST}x {bare} throughput",
                "B2",
                direct,
                "throughput",
                B1_DIRECT_AT_LEAST,
                True,
            ),
            (
                f"B1 p99 through the gateway, concurrency {top}",
                f"<= {B1_P99_AT_MOST:.0f}x {bare} p99",
                "B1",
                gateway,
                "p99",
                B1_P99_AT_MOST,
                False,
            ),
        )
    ]


def evaluate_goals(run: Run) -> list[Goal]:
    goals: list[Goal] = []
    if FLOOR_FIGURE in run.figures:
        goals.append(
            Goal(
                "framework floor",
                f"service /healthz >= {FLOOR_AT_LEAST}x the bare /healthz",
                _number(run, FLOOR_FIGURE),
                FLOOR_AT_LEAST,
                at_least=True,
            )
        )
    goals += _b1_goals(run)
    for benchmark, threshold, target in (
        ("B3", B3_AT_LEAST, f">= {B3_AT_LEAST}x the raw batching consumer's events/s"),
        ("B4", B4_AT_LEAST, f">= {B4_AT_LEAST}x the raw producer's messages/s"),
    ):
        found = _find(run, benchmark)
        if found is not None:
            goals.append(Goal(benchmark, target, found.ratio, threshold, at_least=True))
    for name, figure, target, threshold, at_least in (
        ("B5", B5_FIGURE, f">= {B5_AT_LEAST:,.0f} erasures/s", B5_AT_LEAST, True),
        *(
            ("B6 flows/s", key, f">= {B6_FLOWS_AT_LEAST:.0f} flows/s", B6_FLOWS_AT_LEAST, True)
            for key in run.figures
            if key.startswith("B6 sign-in flows/s")
        ),
        ("B6 p50", B6_P50_FIGURE, f"<= {B6_P50_MS:.0f} ms", B6_P50_MS, False),
    ):
        if figure in run.figures:
            goals.append(Goal(name, target, _number(run, figure), threshold, at_least=at_least))
    b7 = run.series.get("B7", {})
    for case in B7_CASES:
        for name, threshold in (("p50", B7_P50_MS), ("p99", B7_P99_MS)):
            if b7.get(case, {}).get(f"{name}_ms") is not None:
                goals.append(
                    Goal(
                        f"B7 {case}, {name}",
                        f"auth commit → visible in profiles, {name} <= {threshold:.0f} ms",
                        b7[case][f"{name}_ms"],
                        threshold,
                        at_least=False,
                    )
                )
    idle = run.memory.get("idle", {})
    for service in SERVICES:
        if idle_cpu_figure(service) in run.figures:
            goals.append(
                Goal(
                    f"{service} at idle, CPU",
                    f"<= {IDLE_CPU_PERCENT}% of one core",
                    _number(run, idle_cpu_figure(service)),
                    IDLE_CPU_PERCENT,
                    at_least=False,
                )
            )
        if idle.get(service) is not None:
            goals.append(
                Goal(
                    f"{service} at idle, memory",
                    f"RSS <= {IDLE_LIMIT_MB:.0f} MB",
                    idle[service],
                    IDLE_LIMIT_MB,
                    at_least=False,
                )
            )
    return goals
