"""What a chaos run records: every operation a simulated person made, and what they were told.

One JSON object per line, written as each operation ends (so in no particular order of
``seq``, which numbers them in the order they started). The checker reads nothing else
about what clients did, so whatever a rule needs is here: who, what, when, and the answer
(status, the headers that matter, the body), or that none came within the client's timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

OperationKind = Literal[
    "sign_in",
    "dashboard",
    "monitor",
    "bulk",
    "stop_monitoring",
    "sign_out",
    "delete_account",
]

WRITES: frozenset[OperationKind] = frozenset({"monitor", "bulk", "stop_monitoring"})
"""Operations that change what a person owns."""


@dataclass(frozen=True)
class Operation:
    """One request a simulated person made and the answer they got (``status`` ``None``: no
    answer within the client's timeout)."""

    seq: int
    person: str
    user_id: str | None
    kind: OperationKind
    started: datetime
    ended: datetime
    status: int | None
    content_type: str | None = None
    retry_after: str | None = None
    github_ids: tuple[int, ...] = ()
    """The repositories a monitor (or a bulk request's monitor items) named."""
    body: Mapping[str, Any] | None = field(default=None, compare=False)
    request: str | None = None
    """The request that answered, as ``METHOD /path`` through the gateway, or ``METHOD URL``
    elsewhere (GitHub's authorize page, during a sign-in)."""
    error: str | None = None
    """Why no answer came (``status`` ``None``): a timeout, or the connection failing."""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def answered_by_codeflow(self) -> bool:
        """Whether the answer (or the silence) was CodeFlow's, not GitHub's."""
        return self.request is None or self.request.partition(" ")[2].startswith("/")

    @property
    def acknowledged_write(self) -> bool:
        """A write the client was told was done."""
        return self.kind in WRITES and self.succeeded

    def to_json(self) -> str:
        record = asdict(self)
        record["started"] = self.started.isoformat()
        record["ended"] = self.ended.isoformat()
        return json.dumps(record, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Operation:
        record = json.loads(line)
        record["started"] = datetime.fromisoformat(record["started"])
        record["ended"] = datetime.fromisoformat(record["ended"])
        record["github_ids"] = tuple(record.get("github_ids", ()))
        return cls(**record)


def write_history(path: Path, operations: Iterable[Operation]) -> None:
    path.write_text("".join(op.to_json() + "\n" for op in operations))


class HistoryWriter:
    """A history file written one operation at a time, each line flushed as it is written,
    so a run that dies leaves every operation that ended before it readable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w")

    def write(self, operation: Operation) -> None:
        self._file.write(operation.to_json() + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_history(path: Path) -> Iterator[Operation]:
    with path.open() as lines:
        for line in lines:
            if line.strip():
                yield Operation.from_json(line)
