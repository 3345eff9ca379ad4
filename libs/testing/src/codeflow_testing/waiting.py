"""Waiting, within a bound, for what another task or process does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str
) -> None:
    """Wait for an outcome that happens asynchronously; fail naming it after ``timeout``.

    This is a bounded wait for something another process or task does, not a retry of a
    flaky step: ``condition`` only observes.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)
