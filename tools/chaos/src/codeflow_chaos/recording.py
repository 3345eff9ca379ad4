"""Numbering operations as they start and writing them to the history as they end."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from codeflow_chaos.history import HistoryWriter, Operation


class Recorder:
    """Hands out ``seq`` numbers in the order operations start, and counts what was written."""

    def __init__(self, history: HistoryWriter) -> None:
        self._history = history
        self._last_seq = 0
        self.by_kind: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()

    def start(self) -> tuple[int, datetime]:
        """The next ``seq``, and now."""
        self._last_seq += 1
        return self._last_seq, datetime.now(UTC)

    def record(self, operation: Operation) -> None:
        self._history.write(operation)
        self.by_kind[operation.kind] += 1
        self.by_status["none" if operation.status is None else str(operation.status)] += 1

    @property
    def started(self) -> int:
        return self._last_seq

    @property
    def recorded(self) -> int:
        return sum(self.by_kind.values())
