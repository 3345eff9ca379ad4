"""What the launcher's lifecycle tests share: the processes a private directory still has."""

from __future__ import annotations

import signal
from pathlib import Path

from codeflow_infra import processes


def remaining_processes(local_dir: Path) -> list[str]:
    """``pid: command line`` of every process still referencing ``local_dir``."""
    return [
        f"{pid}: {' '.join(processes.cmdline(pid))}"
        for pid in processes.pids_referencing(local_dir)
    ]


def kill_remaining(local_dir: Path) -> None:
    """Kill what a test left running in ``local_dir`` (only processes that test started)."""
    for pid in processes.pids_referencing(local_dir):
        processes.stop_process(pid, signal.SIGKILL, 10)
