"""What a run measures, as plain data that goes to JSON and comes back for the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from codeflow_bench.stats import ratio


@dataclass(frozen=True)
class Comparison:
    """One figure beside its baseline, measured in the same run on the same data."""

    benchmark: str
    case: str
    metric: str
    unit: str
    value: float | None
    baseline_label: str
    baseline: float | None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        return ratio(self.value, self.baseline)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass(frozen=True)
class Goal:
    """A target of the issue: ``figure`` compared with ``threshold`` (at least, or under)."""

    name: str
    target: str
    figure: float | None
    threshold: float
    at_least: bool

    @property
    def met(self) -> bool | None:
        if self.figure is None:
            return None
        return self.figure >= self.threshold if self.at_least else self.figure <= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class Run:
    """Everything one run produced; ``to_json`` is the file in ``bench/results/``."""

    mode: str
    started_at: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    finished_at: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def compare(self, comparison: Comparison) -> Comparison:
        self.comparisons.append(comparison)
        return comparison

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "machine": self.machine,
            "settings": self.settings,
            "comparisons": [c.to_json() for c in self.comparisons],
            "series": self.series,
            "figures": self.figures,
            "memory": self.memory,
            "goals": [g.to_json() for g in self.goals],
            "profiles": self.profiles,
            "notes": self.notes,
            "errors": self.errors,
        }
