"""The report shows every figure beside its baseline, and the goals' verdicts (no I/O)."""

from __future__ import annotations

from codeflow_bench.goals import evaluate_goals
from codeflow_bench.report import fmt, fmt_ratio, render
from codeflow_bench.results import Comparison, Goal, Run


def a_run() -> Run:
    run = Run(
        mode="smoke",
        started_at="2026-11-28T00:00:00Z",
        machine={"CPU": "Test CPU", "cores (logical)": 2},
        settings={"users": 300},
    )
    point = {"rps": 100.0, "p50_ms": 5.0, "p99_ms": 60.0}
    run.series["B1"] = {"gateway": {"16": point, "64": point}}
    run.compare(Comparison("B1", "gateway c=64", "throughput", "req/s", 100.0, "bare ASGI", 400.0))
    run.compare(
        Comparison("B2", "direct with JWT c=64", "throughput", "req/s", 360.0, "bare ASGI", 400.0)
    )
    run.compare(Comparison("B5", "saga", "time", "s", 20.0, "one DELETE per database", 2.0, False))
    run.compare(Comparison("B1", "gateway c=64", "p99", "ms", 60.0, "bare ASGI", 40.0, False))
    run.memory["idle"] = {"auth": 95.0, "profiles": 160.0}
    run.figures.update(
        {
            "framework floor: FastAPI /healthz / bare /healthz": 0.71,
            "B5 saga deletions/s": 1_500.0,
            "B6 sign-in flows/s (auth direct, concurrency 4)": 90.0,
            "B6 flow p50 (ms)": 50.0,
            "auth at idle: CPU (% of one core)": 0.2,
            "profiles at idle: CPU (% of one core)": 1.1,
        }
    )
    return run


def test_a_comparison_is_figure_over_baseline() -> None:
    assert Comparison("B", "c", "m", "u", 3.0, "base", 4.0).ratio == 0.75
    assert Comparison("B", "c", "m", "u", 3.0, "base", None).ratio is None


def test_goals_are_judged_from_ratios_latencies_and_memory() -> None:
    goals = {goal.name: goal for goal in evaluate_goals(a_run())}
    assert goals["B1 through the gateway, concurrency 64"].figure == 0.25
    assert goals["B1 through the gateway, concurrency 64"].met is False
    assert goals["B1 called directly, concurrency 64"].met is True
    assert goals["B1 p99 through the gateway, concurrency 64"].figure == 1.5
    assert goals["B1 p99 through the gateway, concurrency 64"].met is True
    assert goals["framework floor"].met is True
    assert goals["B5"].figure == 1_500.0
    assert goals["B5"].met is False
    assert goals["B6 flows/s"].met is True
    assert goals["B6 p50"].met is True
    assert goals["auth at idle, CPU"].met is True
    assert goals["profiles at idle, CPU"].met is False
    assert goals["auth at idle, memory"].met is True
    assert goals["profiles at idle, memory"].met is False
    assert Goal("x", "t", None, 1.0, at_least=True).met is None


def test_the_report_puts_each_figure_beside_its_baseline_and_names_shortfalls() -> None:
    run = a_run()
    run.goals = evaluate_goals(run)
    text = render(run.to_json(), plots=["x-throughput.png"])
    b1 = "| B1 | gateway c=64 | throughput (req/s, higher is better) | 100 | bare ASGI | 400 |"
    assert b1 + " 0.25x |" in text
    assert (
        "| B5 | saga | time (s, lower is better) | 20.0 | one DELETE per database | 2.00 | 10.00x |"
        in text
    )
    assert "Test CPU" in text
    assert "**short**" in text
    assert "Shortfalls: B1 through the gateway, concurrency 64" in text
    assert "![x-throughput.png](x-throughput.png)" in text
    assert "| profiles | 160 |" in text


def test_figures_are_formatted_for_reading() -> None:
    assert fmt(12345.678) == "12,346"
    assert fmt(0.01234) == "0.0123"
    assert fmt(None) == "-"
    assert fmt(float("nan")) == "-"
    assert fmt(3) == "3"
    assert fmt(True) == "yes"
    assert fmt_ratio(0.5) == "0.50x"
    assert fmt_ratio(None) == "-"


def test_b7_latency_is_judged_at_idle_and_under_load() -> None:
    run = a_run()
    run.series["B7"] = {
        "at idle": {"p50_ms": 8.0, "p99_ms": 40.0},
        "under B1": {"p50_ms": 25.0, "p99_ms": 140.0},
        "raw produce → consume": {"p50_ms": 6.0, "p99_ms": 12.0},
    }
    goals = {goal.name: goal for goal in evaluate_goals(run)}
    assert goals["B7 at idle, p50"].met is True
    assert goals["B7 at idle, p99"].met is True
    assert goals["B7 under B1, p50"].met is False
    assert goals["B7 under B1, p99"].figure == 140.0
    assert goals["B7 under B1, p99"].met is False
    assert "B7 raw produce → consume, p50" not in goals


def test_b3_is_judged_against_the_batching_raw_consumer_at_0_8x() -> None:
    def b3_at(events_per_s: float) -> Goal:
        run = a_run()
        run.compare(
            Comparison(
                "B3",
                "profiles consumer",
                "ingestion",
                "events/s",
                events_per_s,
                "raw aiokafka + asyncpg, batched",
                1000.0,
            )
        )
        return next(goal for goal in evaluate_goals(run) if goal.name == "B3")

    assert b3_at(800.0).threshold == 0.8
    assert b3_at(800.0).met is True
    assert b3_at(790.0).met is False
    assert "0.8x" in b3_at(800.0).target
