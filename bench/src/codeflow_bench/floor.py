"""The framework floor: the service's ``/healthz`` beside plain FastAPI's and the bare app's,
on the same server, so the report tells FastAPI's own cost from the kit's.

A health check does no I/O on any side: the bare Starlette app is what uvicorn and routing
alone cost, a plain ``FastAPI()`` (``plain_fastapi_app``) adds FastAPI's request handling
(dependency resolution, response serialisation), and the service adds what the kit
installs (middleware, exception handlers, its other routes).

The three are loaded in turn, a few short windows each, the order rotated every round, and
each rate is its requests over its seconds in all of them. One window each, one after the
other, let a slow moment of the machine fall on one side alone: the kit's share of the
floor read 0.71x and 1.50x in two runs of the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from codeflow_bench import load
from codeflow_bench.results import Run
from codeflow_bench.stats import HttpResult, ratio

ROUNDS = 3
"""Windows per side; each round loads every side once, in a rotated order."""

SERVICE, PLAIN, BARE = "service", "plain FastAPI", "bare"


def in_turns(sides: list[str], rounds: int) -> list[str]:
    """The order the sides are loaded in: every side once a round, each round beginning one
    further along, so that each side takes every place in the round in turn."""
    return [sides[(start + k) % len(sides)] for start in range(rounds) for k in range(len(sides))]


def rates_in_turns(
    load_once: Callable[[str], HttpResult], sides: list[str], rounds: int
) -> dict[str, float]:
    """Each side's requests per second over its windows in :func:`in_turns` order, where
    ``load_once(side)`` loads it for one window."""
    requests = dict.fromkeys(sides, 0)
    seconds = dict.fromkeys(sides, 0.0)
    for side in in_turns(sides, rounds):
        result = load_once(side)
        requests[side] += result.requests
        seconds[side] += result.seconds
    return {side: requests[side] / seconds[side] if seconds[side] else 0.0 for side in sides}


async def measure_the_floor(
    run: Run,
    results_dir: Path,
    *,
    urls: Mapping[str, str],
    port: int,
    concurrency: int,
    warmup_seconds: float,
    window_seconds: float,
) -> None:
    """Serve the plain FastAPI app on ``port``; load its ``/healthz``, the service's and the
    bare one's (``urls``: ``SERVICE`` and ``BARE``) in turns, and record the rates and the
    three ratios."""
    with load.served(
        "codeflow_bench.plain_fastapi_app:create_app",
        port=port,
        env={},
        log=results_dir / "logs" / "plain_fastapi_app.log",
    ):
        every = {**urls, PLAIN: f"http://127.0.0.1:{port}/healthz"}
        headers = ["Accept: */*"]

        def load_once(side: str, seconds: float = window_seconds) -> HttpResult:
            return load.wrk(every[side], headers, connections=concurrency, seconds=seconds)

        def measure() -> dict[str, float]:
            for side in every:
                load_once(side, warmup_seconds)
            return rates_in_turns(load_once, list(every), ROUNDS)

        rates = await asyncio.to_thread(measure)
    c = concurrency
    run.figures[f"repositories /healthz (FastAPI, no I/O, c={c}) req/s"] = rates[SERVICE]
    run.figures[f"bare /healthz (Starlette, no I/O, c={c}) req/s"] = rates[BARE]
    run.figures[f"plain FastAPI /healthz (no I/O, c={c}) req/s"] = rates[PLAIN]
    run.figures["framework floor: FastAPI /healthz / bare /healthz"] = ratio(
        rates[SERVICE], rates[BARE]
    )
    run.figures["FastAPI's own share: plain FastAPI /healthz / bare /healthz"] = ratio(
        rates[PLAIN], rates[BARE]
    )
    run.figures["the kit's share: service /healthz / plain FastAPI /healthz"] = ratio(
        rates[SERVICE], rates[PLAIN]
    )
