"""What a chaos run did to the system: every fault, on what, from when to when.

One JSON object per line, as the history is kept, so a report (or a person) can lay the
faults beside what the clients were told.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

FaultKind = Literal[
    "kill",
    "pause",
    "postgres-restart",
    "kafka-restart",
    "latency",
    "cut",
    "slow-close",
    "exit",
]
"""The kinds injected, and ``exit``: a replica that exited by itself (the run's supervisor
started it again, as Kubernetes would)."""

INJECTED: tuple[FaultKind, ...] = tuple(kind for kind in get_args(FaultKind) if kind != "exit")
"""The kinds a run injects, in the order they are listed."""


@dataclass(frozen=True)
class Fault:
    """One fault: ``target`` names what it hit (``auth-2``, ``pg-profiles``); ``ended`` is
    ``None`` when it never ended within the run."""

    kind: FaultKind
    target: str
    started: datetime
    ended: datetime | None
    note: str = ""

    def to_json(self) -> str:
        record = asdict(self)
        record["started"] = self.started.isoformat()
        record["ended"] = self.ended.isoformat() if self.ended else None
        return json.dumps(record, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Fault:
        record = json.loads(line)
        record["started"] = datetime.fromisoformat(record["started"])
        if record.get("ended") is not None:
            record["ended"] = datetime.fromisoformat(record["ended"])
        return cls(**record)


def write_faults(path: Path, faults: Iterable[Fault]) -> None:
    path.write_text("".join(fault.to_json() + "\n" for fault in faults))


def read_faults(path: Path) -> Iterator[Fault]:
    with path.open() as lines:
        for line in lines:
            if line.strip():
                yield Fault.from_json(line)
