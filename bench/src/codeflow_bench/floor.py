"""The framework floor's third point: plain FastAPI's ``/healthz`` beside the service's and
the bare app's, on the same server, so the report tells FastAPI's own cost from the kit's.

A health check does no I/O on any side: the bare Starlette app is what uvicorn and routing
alone cost, a plain ``FastAPI()`` (``plain_fastapi_app``) adds FastAPI's request handling
(dependency resolution, response serialisation), and the service adds what the kit
installs (middleware, exception handlers, its other routes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from codeflow_bench import load
from codeflow_bench.results import Run
from codeflow_bench.stats import HttpResult, ratio

Measure = Callable[[str, list[str], int], HttpResult]
"""Warms up and loads a URL with headers at a concurrency, as B1 does."""


async def add_plain_fastapi_point(
    run: Run,
    results_dir: Path,
    *,
    port: int,
    concurrency: int,
    measure: Measure,
    service_rps: float,
    bare_rps: float,
) -> None:
    """Serve the plain FastAPI app on ``port``, load its ``/healthz`` as the service's and
    the bare one's were (``service_rps`` and ``bare_rps``), and record the three ratios."""
    with load.served(
        "codeflow_bench.plain_fastapi_app:create_app",
        port=port,
        env={},
        log=results_dir / "logs" / "plain_fastapi_app.log",
    ):
        plain = await asyncio.to_thread(
            measure, f"http://127.0.0.1:{port}/healthz", ["Accept: */*"], concurrency
        )
    run.figures[f"plain FastAPI /healthz (no I/O, c={concurrency}) req/s"] = plain.rps
    run.figures["FastAPI's own share: plain FastAPI /healthz / bare /healthz"] = ratio(
        plain.rps, bare_rps
    )
    run.figures["the kit's share: service /healthz / plain FastAPI /healthz"] = ratio(
        service_rps, plain.rps
    )
