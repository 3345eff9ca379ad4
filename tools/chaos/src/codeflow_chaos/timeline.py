"""A run over time: operations and errors per interval, and a plot of them with the faults
shaded, so a glance shows what each fault did to the clients."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from codeflow_chaos.fault_log import Fault
from codeflow_chaos.history import Operation

MOST_BUCKETS = 300
"""A long run is cut into wider intervals rather than into more of them."""


def is_error(op: Operation) -> bool:
    """No answer, or a server error: the system failed the client."""
    return op.status is None or op.status >= 500


def is_client_error(op: Operation) -> bool:
    """A 4xx: the system refused the client (after a sign-out or an erasure, say)."""
    return op.status is not None and 400 <= op.status < 500


@dataclass(frozen=True)
class Bucket:
    """The operations that started in ``[start, start + width)`` seconds into the run."""

    start: float
    operations: int = 0
    errors: int = 0
    client_errors: int = 0


def bucket_width(duration: float) -> int:
    """Seconds per bucket: one, unless the run is longer than :data:`MOST_BUCKETS` seconds."""
    return max(1, math.ceil(duration / MOST_BUCKETS))


def buckets(history: Sequence[Operation], started: datetime, ended: datetime) -> list[Bucket]:
    """The run cut into intervals of :func:`bucket_width` seconds, each with its counts."""
    duration = max((ended - started).total_seconds(), 0.0)
    width = bucket_width(duration)
    count = max(1, math.ceil(duration / width))
    operations, errors, client_errors = [0] * count, [0] * count, [0] * count
    for op in history:
        at = (op.started - started).total_seconds()
        index = min(max(int(at // width), 0), count - 1)
        operations[index] += 1
        errors[index] += is_error(op)
        client_errors[index] += is_client_error(op)
    return [
        Bucket(float(i * width), operations[i], errors[i], client_errors[i]) for i in range(count)
    ]


def plot_timeline(
    path: Path,
    history: Sequence[Operation],
    faults: Sequence[Fault],
    started: datetime,
    ended: datetime,
) -> None:
    """Write a PNG of operations, errors and 4xx per second, with each fault shaded in the
    colour of its kind (a fault that never ended runs to the end of the run)."""
    duration = max((ended - started).total_seconds(), 1.0)
    found = buckets(history, started, ended)
    width = bucket_width(duration)
    edges = [b.start for b in found] + [min(found[-1].start + width, duration)]
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    kinds = sorted({fault.kind for fault in faults})
    colours = {kind: f"C{3 + i % 7}" for i, kind in enumerate(kinds)}
    for fault in faults:
        start = (fault.started - started).total_seconds()
        end = (fault.ended - started).total_seconds() if fault.ended else duration
        axes.axvspan(start, max(end, start + 0.5), color=colours[fault.kind], alpha=0.18, lw=0)
    for label, values, colour in (
        ("operations/s", [b.operations / width for b in found], "C0"),
        ("errors/s (5xx, no answer)", [b.errors / width for b in found], "C1"),
        ("4xx/s", [b.client_errors / width for b in found], "C2"),
    ):
        axes.stairs(values, edges, label=label, color=colour, lw=1.2)
    handles, _ = axes.get_legend_handles_labels()
    handles += [Patch(color=colours[kind], alpha=0.3, label=kind) for kind in kinds]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    axes.set_xlim(0, duration)
    axes.set_ylim(bottom=0)
    axes.set_xlabel("seconds since the run started")
    axes.set_ylabel("per second")
    axes.grid(alpha=0.3)
    figure.savefig(path, format="png", dpi=100)
