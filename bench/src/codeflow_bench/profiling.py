"""Profiles of a figure that falls short: ``py-spy record`` on a running process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
