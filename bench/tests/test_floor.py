"""The floor's three sides loaded in turns: every side takes every place in a round, and a
slow moment of the machine weighs on one window of several."""

from __future__ import annotations

import pytest

from codeflow_bench.floor import in_turns, rates_in_turns
from codeflow_bench.stats import HttpResult


def result(requests: int, seconds: float) -> HttpResult:
    return HttpResult(requests, seconds, requests / seconds, 1.0, 2.0, 0, 0)


def test_each_round_loads_every_side_once_beginning_one_further_along() -> None:
    assert in_turns(["a", "b", "c"], 3) == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert in_turns(["a", "b", "c"], 1) == ["a", "b", "c"]


def test_each_rate_is_its_requests_over_its_seconds_in_all_its_windows() -> None:
    served = iter([result(100, 1.0), result(300, 2.0), result(50, 1.0), result(120, 1.0)])
    rates = rates_in_turns(lambda side: next(served), ["a", "b"], 2)
    # a: windows 1 and 4 (100 + 120 in 2 s); b: windows 2 and 3 (300 + 50 in 3 s).
    assert rates == {"a": pytest.approx(110.0), "b": pytest.approx(350 / 3)}


def test_a_slow_moment_weighs_on_one_window_of_three() -> None:
    # Sides that serve alike, the machine at a tenth of its speed for the first window: with
    # one window each, the first side would read 0.1x the others; in three turns, 0.7x.
    speeds = iter([0.1] + [1.0] * 8)

    def load_once(side: str) -> HttpResult:
        return result(round(1000 * next(speeds)), 1.0)

    sides = ["service", "bare", "plain"]
    rates = rates_in_turns(load_once, sides, 3)
    assert rates["service"] / rates["bare"] == pytest.approx(0.7)  # (100 + 2 x 1000) / 3000
    assert rates["bare"] / rates["plain"] == pytest.approx(1.0)
