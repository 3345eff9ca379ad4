"""Exponential backoff, shared by the relay and the consumers, and retrying with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")


@dataclass(frozen=True)
class Backoff:
    """Delays of ``initial * multiplier**n``, capped at ``maximum`` seconds."""

    initial: float = 0.2
    maximum: float = 10.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.multiplier < 1:
            raise ValueError(f"invalid backoff: {self!r}")

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th consecutive failure (counted from 1)."""
        if failures < 1:
            raise ValueError("failures are counted from 1")
        return min(self.maximum, self.initial * self.multiplier ** (failures - 1))


async def retry_while(
    attempt: Callable[[], Awaitable[_T]],
    *,
    passing: Callable[[BaseException], bool],
    backoff: Backoff,
    waiting: Callable[[BaseException, float], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> _T:
    """Run ``attempt`` until it returns, however often it fails with an error that ``passing``
    says will go away (Kafka or the database unreachable), waiting ``backoff``'s delays
    between tries; ``waiting(error, delay)`` reports each. Any other error is raised."""
    failures = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not passing(exc):
                raise
            failures += 1
            delay = backoff.delay(failures)
            waiting(exc, delay)
            await sleep(delay)
