"""Profiles of a figure that falls short: ``py-spy record`` on a running process."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeAlias

from codeflow_bench.stats import summarize_collapsed


def py_spy_binary() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def start_recording(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Start ``py-spy record`` (collapsed stacks, not pausing the target); None without py-spy."""
    binary = py_spy_binary()
    if binary is None:
        return None
    return subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "97",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


Recording: TypeAlias = "tuple[str, Path, subprocess.Popen[bytes] | None]"
"""A service's name, the file its recording goes to, and the recording (None without py-spy)."""


def record_services(
    pid_of: Callable[[str], int | None],
    services: Iterable[str],
    seconds: float,
    directory: Path,
    name: str,
) -> list[Recording]:
    """Start recording each of ``services`` that runs, into ``directory/<name>-<service>.txt``."""
    recordings = []
    for service in services:
        pid = pid_of(service)
        if pid is None:
            continue
        path = directory / f"{name}-{service}.txt"
        path.unlink(missing_ok=True)
        recordings.append((service, path, start_recording(pid, seconds, path)))
    return recordings


async def finish_services(
    recordings: list[Recording], *, what: str, why: str
) -> list[dict[str, Any]]:
    """The summaries of :func:`record_services`' recordings (``{service}`` in ``what``)."""
    return [
        await asyncio.to_thread(
            finish_recording,
            process,
            path,
            what=what.format(service=service),
            target=f"{service} (pid file {service}.pid)",
            why=why,
        )
        for service, path, process in recordings
    ]


def finish_recording(
    process: subprocess.Popen[bytes] | None, output: Path, *, what: str, target: str, why: str
) -> dict[str, Any]:
    """Wait for the recording and summarise it: hottest frames by self and inclusive time."""
    if process is None:
        return {"what": what, "target": target, "why": why, "error": "py-spy is not installed"}
    _, stderr = process.communicate(timeout=120)
    if not output.exists():
        return {
            "what": what,
            "target": target,
            "why": why,
            "error": f"py-spy wrote nothing: {stderr.decode(errors='replace')[-500:]}",
        }
    summary = summarize_collapsed(output.read_text())
    return {
        "what": what,
        "target": target,
        "why": why,
        "samples": summary.samples,
        "self_top": summary.self_top,
        "inclusive_top": summary.inclusive_top,
        "raw": str(output),
    }


def profile_dir(results_dir: Path) -> Path:
    path = results_dir / "profiles"
    path.mkdir(parents=True, exist_ok=True)
    return path
