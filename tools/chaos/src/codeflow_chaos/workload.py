"""The chaos run's workload: simulated people signing in through GitHub's stand-in, reading
their dashboard, monitoring repositories one at a time and in bulk, stopping, signing out and
coming back, deleting their account, going quiet long enough to be swept, each following a
plan drawn from the run's seed. Every operation goes to the history as it ends.

The run stops by itself after ``duration``, or sooner when ``stop`` is set: nobody starts
anything new, requests under way get ``grace`` seconds to be answered (they are recorded),
and whatever is still open then is cancelled (and not recorded: nobody was told anything).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeflow_chaos.acting import Actor
from codeflow_chaos.browser import Browser
from codeflow_chaos.history import HistoryWriter
from codeflow_chaos.people import Person, everyone, register
from codeflow_chaos.plans import Pace, plan
from codeflow_chaos.recording import Recorder


@dataclass(frozen=True)
class WorkloadSummary:
    people: int
    seconds: float
    operations: int
    """Operations recorded in the history."""
    unfinished: int
    """Operations under way when the run stopped and cancelled after the grace period."""
    by_kind: Mapping[str, int]
    by_status: Mapping[str, int]
    """Recorded operations per status (``"none"``: no answer)."""


async def run_workload(
    *,
    gateway_url: str,
    emulator_url: str,
    seed: int,
    people: int,
    duration: float,
    history: HistoryWriter | Path,
    pace: Pace | None = None,
    client_timeout: float = 10.0,
    concurrency: int | None = None,
    grace: float | None = None,
    stop: asyncio.Event | None = None,
) -> WorkloadSummary:
    """Run ``people`` people against ``gateway_url`` for ``duration`` seconds (or until
    ``stop`` is set), writing what each was told to ``history``.

    ``concurrency`` caps the operations under way at once (default: one per person);
    ``grace`` (default ``client_timeout``) is how long requests under way at the end may
    still take. HTTP outcomes never raise; the people being refused by GitHub's stand-in at
    the start does, and so does a fault of the workload itself, once everyone has stopped.
    """
    if people < 1 or duration < 0:
        raise ValueError("a workload needs someone, and a duration that is not negative")
    cast = everyone(seed, people)
    await register(emulator_url, cast)
    with contextlib.ExitStack() as closing:
        if not isinstance(history, HistoryWriter):
            history = closing.enter_context(HistoryWriter(history))
        return await _run(
            cast,
            history,
            gateway_url=gateway_url,
            seed=seed,
            duration=duration,
            pace=pace or Pace(),
            client_timeout=client_timeout,
            concurrency=concurrency,
            grace=client_timeout if grace is None else grace,
            stop=stop,
        )


async def _run(
    cast: list[Person],
    history: HistoryWriter,
    *,
    gateway_url: str,
    seed: int,
    duration: float,
    pace: Pace,
    client_timeout: float,
    concurrency: int | None,
    grace: float,
    stop: asyncio.Event | None,
) -> WorkloadSummary:
    loop = asyncio.get_running_loop()
    began = loop.time()
    recorder = Recorder(history)
    stopping = asyncio.Event()
    limit = asyncio.Semaphore(concurrency or max(len(cast), 1))

    async def live(someone: Person) -> None:
        browser = Browser(gateway_url, timeout=client_timeout)
        actor = Actor(
            someone,
            browser,
            recorder,
            stopping=stopping,
            limit=limit,
            rng=random.Random(f"{seed}:{someone.index}:answers"),
            after_error=pace.after_error,
        )
        try:
            await actor.follow(plan(seed, someone, pace))
        finally:
            await browser.aclose()

    tasks = [asyncio.create_task(live(someone)) for someone in cast]
    try:
        await _until_stopped(tasks, duration, stop)
        stopping.set()
        await asyncio.wait(tasks, timeout=grace)
    finally:
        stopping.set()
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, Exception)]
    if failures:
        raise ExceptionGroup("the workload failed", failures)
    return WorkloadSummary(
        people=len(cast),
        seconds=loop.time() - began,
        operations=recorder.recorded,
        unfinished=recorder.started - recorder.recorded,
        by_kind=dict(recorder.by_kind),
        by_status=dict(recorder.by_status),
    )


async def _until_stopped(
    tasks: list[asyncio.Task[None]], duration: float, stop: asyncio.Event | None
) -> None:
    """Until ``duration`` has passed, ``stop`` is set, or everyone has left."""

    async def everyone_left() -> None:
        await asyncio.wait(tasks)  # waits without cancelling them when itself cancelled

    watchers: list[asyncio.Task[Any]] = [asyncio.create_task(everyone_left())]
    if stop is not None:
        watchers.append(asyncio.create_task(stop.wait()))
    try:
        await asyncio.wait(watchers, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
