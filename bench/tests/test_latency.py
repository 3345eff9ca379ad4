"""B7's summary of latency samples (no I/O)."""

from __future__ import annotations

import math

from codeflow_bench.stats import latency_summary


def test_summary_has_count_percentiles_and_max() -> None:
    samples = [float(ms) for ms in range(1, 101)]

    summary = latency_summary(samples, timeouts=2)

    assert summary["samples"] == 100
    assert summary["timeouts"] == 2
    assert summary["p50_ms"] == 50.5
    assert summary["p99_ms"] == 99.01
    assert summary["max_ms"] == 100.0


def test_no_samples_show_as_missing_not_zero() -> None:
    summary = latency_summary([], timeouts=3)

    assert summary["samples"] == 0
    assert summary["timeouts"] == 3
    assert math.isnan(summary["p50_ms"])
    assert math.isnan(summary["max_ms"])
