"""How big and how long each benchmark runs: ``full`` (make bench) and ``smoke`` (CI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Plan:
    mode: str
    users: int
    repos_per_user: int
    sessions: int
    concurrencies: tuple[int, ...]
    http_seconds: float
    warmup_seconds: float
    b3_events: int
    b3_timeout: float
    b4_messages: int
    b4_timeout: float
    b5_users: int
    b5_timeout: float
    b6_seconds: float
    b6_concurrency: int
    profile_seconds: float
    b7_samples: int
    b7_timeout: float
    b7_load_seconds: float
    b7_load_concurrency: int
    idle_seconds: float
    settle_longest: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Plan(
    mode="full",
    users=10_000,
    repos_per_user=20,
    sessions=16,
    concurrencies=(1, 16, 64),
    http_seconds=10,
    warmup_seconds=2,
    b3_events=100_000,
    b3_timeout=150,
    b4_messages=50_000,
    b4_timeout=120,
    b5_users=10_000,
    b5_timeout=240,
    b6_seconds=10,
    b6_concurrency=4,
    profile_seconds=8,
    b7_samples=200,
    b7_timeout=5,
    b7_load_seconds=45,
    b7_load_concurrency=16,
    idle_seconds=30,
    settle_longest=90,
)

# The same steps, small enough for CI: only what shrinks is named.
SMOKE = replace(
    FULL,
    mode="smoke",
    users=300,
    sessions=4,
    http_seconds=1,
    warmup_seconds=1,
    b3_events=1_000,
    b3_timeout=60,
    b4_messages=1_000,
    b4_timeout=60,
    b5_users=50,
    b5_timeout=90,
    b6_seconds=2,
    b6_concurrency=2,
    profile_seconds=2,
    b7_samples=10,
    b7_load_seconds=6,
    b7_load_concurrency=4,
    idle_seconds=3,
    settle_longest=10,
)

PLANS = {plan.mode: plan for plan in (FULL, SMOKE)}
