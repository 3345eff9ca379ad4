"""What each simulated person means to do, and when: an endless plan drawn from
``random.Random(f"{seed}:{index}")``, so one seed gives every person the same plan each run.

A plan is intentions, not requests: which repository to stop monitoring is a fraction of the
ones the person knows by then, so the same plan fits whatever the run's answers taught them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from codeflow_chaos.people import Person, Repository


@dataclass(frozen=True)
class Pace:
    """How a person paces their plan (seconds)."""

    think: tuple[float, float] = (1.0, 5.0)
    """Between one step and the next."""
    away: tuple[float, float] = (5.0, 30.0)
    """Between signing out (or deleting the account) and coming back."""
    start_within: float = 10.0
    """Everyone signs in for the first time within this of the start."""
    quiet_share: float = 0.02
    """The chance that a step is going quiet instead."""
    quiet_for: float = 90.0
    """How long a quiet person says nothing: past the janitor's inactivity threshold."""
    come_back_share: float = 0.8
    """The chance that a person who went quiet, or deleted their account, comes back."""
    after_error: tuple[float, float] = (0.5, 2.0)
    """After an error or no answer, unless ``Retry-After`` says otherwise."""

    def __post_init__(self) -> None:
        for low, high in (self.think, self.away, self.after_error):
            if not 0 <= low <= high:
                raise ValueError(f"a pause range needs 0 <= low <= high, not {low}..{high}")
        if not 0 <= self.quiet_share < 1 or not 0 <= self.come_back_share <= 1:
            raise ValueError("shares are probabilities (and quiet_share below 1)")
        if self.start_within < 0 or self.quiet_for < 0:
            raise ValueError("durations can't be negative")


@dataclass(frozen=True)
class SignIn:
    """Through GitHub's stand-in; ``/auth/session`` says who the session is for."""


@dataclass(frozen=True)
class ReadDashboard:
    with_profile: bool
    """Open the profile page too."""


@dataclass(frozen=True)
class Monitor:
    repository: Repository


@dataclass(frozen=True)
class Bulk:
    monitor: tuple[Repository, ...]
    switches: int
    """Known repositories (not among ``monitor``) to switch off, or on when off."""


@dataclass(frozen=True)
class StopMonitoring:
    pick: float
    """Which of the repositories monitored by then, as a fraction in [0, 1)."""


@dataclass(frozen=True)
class SignOut:
    pass


@dataclass(frozen=True)
class DeleteAccount:
    pass


@dataclass(frozen=True)
class GoQuiet:
    seconds: float


@dataclass(frozen=True)
class Leave:
    """The plan ends: the person never comes back."""


Intent = (
    SignIn
    | ReadDashboard
    | Monitor
    | Bulk
    | StopMonitoring
    | SignOut
    | DeleteAccount
    | GoQuiet
    | Leave
)


@dataclass(frozen=True)
class Step:
    pause: float
    """Seconds to wait before it."""
    intent: Intent


_MIX = (
    ("dashboard", 0.36),
    ("monitor", 0.22),
    ("bulk", 0.10),
    ("stop_monitoring", 0.21),
    ("sign_out", 0.07),
    ("delete_account", 0.04),
)
"""What a signed-in person does next, and how often."""


def plan(seed: int, person: Person, pace: Pace) -> Iterator[Step]:
    """Person's plan: sign in, then act, go quiet, sign out, come back, delete the account,
    maybe leave for good. Endless unless they leave; the run stops reading it at its end."""
    rng = random.Random(f"{seed}:{person.index}")
    yield Step(rng.uniform(0, pace.start_within), SignIn())
    while True:
        think = rng.uniform(*pace.think)
        if rng.random() < pace.quiet_share:
            yield Step(think, GoQuiet(pace.quiet_for))
            if rng.random() >= pace.come_back_share:
                yield Step(0.0, Leave())
                return
            continue
        intent = _next_intent(rng, person)
        yield Step(think, intent)
        if isinstance(intent, DeleteAccount) and rng.random() >= pace.come_back_share:
            yield Step(0.0, Leave())
            return
        if isinstance(intent, SignOut | DeleteAccount):
            yield Step(rng.uniform(*pace.away), SignIn())


def _next_intent(rng: random.Random, person: Person) -> Intent:
    kind = _draw_kind(rng)
    if kind == "dashboard":
        return ReadDashboard(with_profile=rng.random() < 0.3)
    if kind == "monitor":
        return Monitor(rng.choice(person.catalogue))
    if kind == "bulk":
        chosen = rng.sample(person.catalogue, rng.randint(1, 4))
        return Bulk(tuple(sorted(chosen, key=lambda r: r.github_id)), rng.randint(0, 3))
    if kind == "stop_monitoring":
        return StopMonitoring(rng.random())
    if kind == "sign_out":
        return SignOut()
    return DeleteAccount()


def _draw_kind(rng: random.Random) -> str:
    roll = rng.random()
    for kind, share in _MIX:
        if roll < share:
            return kind
        roll -= share
    return _MIX[-1][0]
