"""Resident memory of the cluster's pieces: VmRSS of each pid file's process and its children."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from codeflow_bench.target import PIECES, Target


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


def tree_rss_mb(pid: int) -> float | None:
    """RSS of ``pid`` and all its descendants, in MB (shared pages counted in each)."""
    total_kb = 0
    seen = False
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            rss = vm_rss_kb(Path(f"/proc/{current}/status").read_text())
        except OSError:
            continue
        if rss is not None:
            total_kb += rss
            seen = True
        stack += _children(current)
    return total_kb / 1024 if seen else None


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
