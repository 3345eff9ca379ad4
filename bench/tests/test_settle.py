"""When a benchmark step may begin: once the cluster's CPU falls to the settled share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from codeflow_bench.settle import SETTLED_SHARE, settle


class Windows:
    """A cluster measured window by window, each window advancing a clock by two seconds."""

    def __init__(self, busy: list[float]) -> None:
        self._busy: Iterator[float] = iter(busy)
        self.now = 0.0
        self.measured = 0

    def clock(self) -> float:
        return self.now

    def measure(self) -> Callable[[], Awaitable[float]]:
        async def window() -> float:
            self.now += 2.0
            self.measured += 1
            return next(self._busy)

        return window


async def test_a_step_begins_at_the_first_window_the_cluster_is_settled_in() -> None:
    windows = Windows([180.0, 90.0, SETTLED_SHARE + 0.1, SETTLED_SHARE, 150.0])
    settling = await settle(windows.measure(), longest=60, clock=windows.clock)
    assert (settling.waited, settling.busy, settling.settled) == (8.0, SETTLED_SHARE, True)
    assert windows.measured == 4


async def test_a_settled_cluster_is_not_waited_for() -> None:
    windows = Windows([3.0])
    settling = await settle(windows.measure(), longest=60, clock=windows.clock)
    assert (settling.waited, settling.settled) == (2.0, True)


async def test_a_cluster_that_never_settles_is_waited_for_at_most_the_longest() -> None:
    windows = Windows([120.0] * 100)
    settling = await settle(windows.measure(), longest=9, clock=windows.clock)
    assert (settling.waited, settling.busy, settling.settled) == (10.0, 120.0, False)
    assert windows.measured == 5
