"""Numbers: percentiles, ratios, and the parsing of wrk's and pgbench's summaries.

Pure functions, no I/O: the unit tests cover them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between ranks.

    NaN for no values, so an empty run shows as missing rather than as zero.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``; None when either is missing or the baseline is zero."""
    if value is None or baseline is None:
        return None
    if math.isnan(value) or math.isnan(baseline) or baseline == 0:
        return None
    return value / baseline


def latency_summary(samples_ms: Sequence[float], *, timeouts: int) -> dict[str, float | int]:
    """Count, p50, p99 and max of one-at-a-time latency samples, and how many timed out."""
    return {
        "samples": len(samples_ms),
        "timeouts": timeouts,
        "p50_ms": percentile(samples_ms, 50),
        "p99_ms": percentile(samples_ms, 99),
        "max_ms": float(max(samples_ms)) if samples_ms else math.nan,
    }


_UNITS_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([0-9.]+)(us|ms|s|m|h)$")


def wrk_duration_ms(text: str) -> float:
    """wrk's ``1.23ms`` / ``456.00us`` / ``1.50s`` as milliseconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_TO_MS[match.group(2)]


@dataclass(frozen=True)
class HttpResult:
    """One load run: requests per second and latency percentiles in milliseconds."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int

    @property
    def ok(self) -> bool:
        return self.requests > 0 and self.non_2xx == 0 and self.errors == 0


_WRK_REQUESTS = re.compile(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h),", re.MULTILINE)
_WRK_RPS = re.compile(r"^Requests/sec:\s*([0-9.]+)", re.MULTILINE)
_WRK_PCT = re.compile(r"^\s*(50|99)(?:\.000)?%\s+([0-9.]+(?:us|ms|s|m|h))", re.MULTILINE)
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_WRK_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_WRK_STATUS = re.compile(r"^status (\d+) (\d+)$", re.MULTILINE)


def parse_wrk(output: str) -> HttpResult:
    """The summary ``wrk --latency`` prints (with our script's ``status`` lines, if any)."""
    requests = _WRK_REQUESTS.search(output)
    rps = _WRK_RPS.search(output)
    if requests is None or rps is None:
        raise ValueError(f"not a wrk summary:\n{output}")
    percentiles = {int(m.group(1)): wrk_duration_ms(m.group(2)) for m in _WRK_PCT.finditer(output)}
    non_2xx = _WRK_NON2XX.search(output)
    errors = _WRK_ERRORS.search(output)
    bad_status = sum(
        int(m.group(2)) for m in _WRK_STATUS.finditer(output) if not m.group(1).startswith("2")
    )
    return HttpResult(
        requests=int(requests.group(1)),
        seconds=wrk_duration_ms(requests.group(2) + requests.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=percentiles.get(50, math.nan),
        p99_ms=percentiles.get(99, math.nan),
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        non_2xx=max(int(non_2xx.group(1)) if non_2xx else 0, bad_status),
    )


_PGBENCH_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_PGBENCH_TX = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_PGBENCH_LAT = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_PGBENCH_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class PgbenchResult:
    transactions: int
    tps: float
    latency_avg_ms: float
    failed: int


def parse_pgbench(output: str) -> PgbenchResult:
    """pgbench's summary: transactions, tps (without connection time), mean latency."""
    tps = _PGBENCH_TPS.search(output)
    transactions = _PGBENCH_TX.search(output)
    if tps is None or transactions is None:
        raise ValueError(f"not a pgbench summary:\n{output}")
    latency = _PGBENCH_LAT.search(output)
    failed = _PGBENCH_FAILED.search(output)
    return PgbenchResult(
        transactions=int(transactions.group(1)),
        tps=float(tps.group(1)),
        latency_avg_ms=float(latency.group(1)) if latency else math.nan,
        failed=int(failed.group(1)) if failed else 0,
    )


def pgbench_percentiles(latencies_us: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds from pgbench's per-transaction log (microseconds)."""
    ms = [value / 1000 for value in latencies_us]
    return percentile(ms, 50), percentile(ms, 99)


def parse_pgbench_log(text: str) -> list[float]:
    """The latency column (µs) of ``pgbench --log`` lines: ``client tx latency script ...``."""
    latencies: list[float] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2].isdigit():
            latencies.append(float(fields[2]))
    return latencies


@dataclass(frozen=True)
class Collapsed:
    """A profile's hottest frames, from py-spy's collapsed stacks."""

    samples: int
    self_top: list[tuple[str, float]]
    inclusive_top: list[tuple[str, float]]


def summarize_collapsed(text: str, *, top: int = 8) -> Collapsed:
    """Shares of samples per frame: by self time (the leaf) and inclusive (anywhere on stack).

    Each line is ``frame;frame;...;leaf count`` as ``py-spy record --format raw`` writes it.
    """
    self_counts: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_short_frame(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    if total == 0:
        return Collapsed(0, [], [])

    def shares(counts: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
        return [(frame, count / total) for frame, count in ranked]

    # Inclusive shares of the outermost frames are ~100% and say nothing: skip the event
    # loop's and the thread's own frames.
    meaningful = {
        frame: count
        for frame, count in inclusive.items()
        if not any(noise in frame for noise in _NOISE_FRAMES)
    }
    return Collapsed(total, shares(self_counts), shares(meaningful))


_NOISE_FRAMES = (
    "<module>",
    "_run_module",
    "run_forever",
    "_run_once",
    "asyncio/runners",
    "asyncio/events.py",
    "uvicorn/main.py",
    "uvicorn/server.py",
    "run (",
    "process_thread",
    "(threading.py",
    "(runpy.py",
)


def _short_frame(frame: str) -> str:
    """``function (path/to/site-packages/pkg/mod.py:12)`` → ``function (pkg/mod.py:12)``."""
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        head, sep, tail = frame.rpartition(marker)
        if sep:
            name = head.split(" (")[0]
            return f"{name} ({tail}"
    return frame
