"""Helpers for tests of code that issues or verifies tokens."""

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock that only moves when told to; pass it as `clock=` to issuers and verifiers."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        self.now += delta
