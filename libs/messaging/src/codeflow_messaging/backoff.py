"""Exponential backoff, shared by the relay and the consumers."""

from __future__ import annotations

from dataclasses import dataclass


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
