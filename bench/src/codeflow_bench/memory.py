"""What the cluster's pieces hold at rest: resident memory (VmRSS of each pid file's process
and its children), CPU over an idle window, and the memory floor the libraries alone set."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from codeflow_bench.target import PIECES, SERVICES, Target


def vm_rss_kb(status_text: str) -> int | None:
    """The ``VmRSS`` line of ``/proc/<pid>/status``, in kB."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _tree_sum(pid: int, read: Callable[[int], float | None]) -> float | None:
    """``read`` summed over ``pid`` and all its descendants; None where no process gave one."""
    total, seen, stack = 0.0, False, [pid]
    while stack:
        current = stack.pop()
        try:
            value = read(current)
        except OSError:
            continue
        if value is not None:
            total += value
            seen = True
        stack += _children(current)
    return total if seen else None


def tree_rss_mb(pid: int) -> float | None:
    """RSS of ``pid`` and all its descendants, in MB (shared pages counted in each)."""
    total_kb = _tree_sum(pid, lambda each: vm_rss_kb(Path(f"/proc/{each}/status").read_text()))
    return total_kb / 1024 if total_kb is not None else None


def snapshot(target: Target, pieces: Iterable[str] = PIECES) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for piece in pieces:
        pid = target.pid(piece)
        result[piece] = tree_rss_mb(pid) if pid is not None else None
    return result


class PeakSampler:
    """Samples every piece's RSS in a thread while a load runs; keeps the peak of each."""

    def __init__(self, target: Target, interval: float = 0.5) -> None:
        self._target = target
        self._interval = interval
        self._stop = threading.Event()
        self.peak: dict[str, float | None] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for piece, mb in snapshot(self._target).items():
                if mb is not None and (self.peak.get(piece) or 0) < mb:
                    self.peak[piece] = mb
                self.peak.setdefault(piece, mb)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


LIBRARIES = (
    "fastapi",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "asyncpg",
    "aiokafka",
    "faststream.kafka",
    "uvicorn",
    "uvloop",
    "httptools",
    "httpx",
    "pydantic_settings",
    "prometheus_client",
    "jwt",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
)
"""What every service imports from outside the project: the floor under its idle memory."""

IDLE_BASELINE = "the bare ASGI app (plain uvicorn)"
"""The idle-CPU baseline: B1's bare app, measured in the same window as the services."""

LIBRARIES_ALONE = "(the services' libraries alone)"
"""The memory table's row for :func:`libraries_alone_mb`."""


def idle_cpu_figure(service: str) -> str:
    """The figure holding ``service``'s CPU at idle (see :func:`idle_cpu_percent`)."""
    return f"{service} at idle: CPU (% of one core)"


_LIBRARIES_ALONE = """
import ctypes, ctypes.util, gc, sys
for name in sys.argv[1:]:
    __import__(name)
gc.collect()
gc.freeze()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
sys.stdout.write(open("/proc/self/status").read())
"""


def libraries_alone_mb(libraries: Iterable[str] = LIBRARIES) -> float | None:
    """VmRSS of a process that imports the services' libraries and does nothing else, settled
    as a service settles after start-up (collected, frozen, the C heap trimmed)."""
    answered = subprocess.run(
        [sys.executable, "-c", _LIBRARIES_ALONE, *libraries],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rss = vm_rss_kb(answered.stdout)
    return rss / 1024 if rss is not None else None


def cpu_seconds(stat_text: str, ticks_per_second: float, *, ended_children: bool = False) -> float:
    """User plus system CPU time from ``/proc/<pid>/stat`` (fields 14 and 15); with
    ``ended_children``, also that of the children it has waited for (16 and 17)."""
    fields = stat_text[stat_text.rindex(")") + 2 :].split()
    used = int(fields[11]) + int(fields[12])
    if ended_children:
        used += int(fields[13]) + int(fields[14])
    return used / ticks_per_second


def _tree_cpu_seconds(pid: int, ticks: float) -> float | None:
    """The CPU ``pid`` and its descendants have used, those that ended included: a child's
    time passes to its parent's count when the parent waits for it (as PostgreSQL's
    postmaster does for its backends), so the sum never falls as processes come and go."""
    return _tree_sum(
        pid,
        lambda each: cpu_seconds(
            Path(f"/proc/{each}/stat").read_text(), ticks, ended_children=True
        ),
    )


def idle_cpu_percent(
    target: Target,
    seconds: float,
    pieces: Iterable[str] = SERVICES,
    *,
    beside: Mapping[str, int] | None = None,
) -> dict[str, float | None]:
    """Each piece's CPU over ``seconds`` of nothing asked of it, in % of one core; and, in
    the same window, that of each process in ``beside`` (a name → its pid)."""
    ticks = float(os.sysconf("SC_CLK_TCK"))
    pids: dict[str, int | None] = {piece: target.pid(piece) for piece in pieces}
    pids.update(beside or {})
    before = {p: _tree_cpu_seconds(pid, ticks) if pid else None for p, pid in pids.items()}
    began = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - began
    shares: dict[str, float | None] = {}
    for piece, pid in pids.items():
        after = _tree_cpu_seconds(pid, ticks) if pid else None
        start = before[piece]
        shares[piece] = (
            round(100 * (after - start) / elapsed, 2)
            if after is not None and start is not None
            else None
        )
    return shares
