"""PNG plots of B1: throughput and latency against concurrency, each path beside its baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

LABELS = {
    "gateway": "through the gateway (cookie)",
    "direct": "repositories directly (JWT)",
    "bare": "bare Starlette + asyncpg",
    "pgbench": "pgbench, same SQL (no HTTP)",
    "verify": "/auth/verify alone",
}


def _points(series: dict[str, Any], key: str) -> tuple[list[int], list[float]]:
    ordered = sorted(series.items(), key=lambda item: int(item[0]))
    return [int(c) for c, _ in ordered], [float(point[key]) for _, point in ordered]


def _save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` as a PNG and release it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_b1(b1: dict[str, dict[str, Any]], out_dir: Path, stem: str) -> list[Path]:
    """``<stem>-throughput.png`` and ``<stem>-latency.png``; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, series in b1.items():
        if not series:
            continue
        xs, ys = _points(series, "rps")
        ax.plot(xs, ys, marker="o", label=LABELS.get(name, name))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrency (connections)")
    ax.set_ylabel("throughput (requests or transactions / s, log)")
    ax.set_title("B1 dashboard read: throughput against concurrency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    written.append(_save(fig, out_dir / f"{stem}-throughput.png"))

    fig, (p50, p99) = plt.subplots(1, 2, figsize=(11, 5), sharey=True)
    for name, series in b1.items():
        if not series:
            continue
        xs, ys50 = _points(series, "p50_ms")
        _, ys99 = _points(series, "p99_ms")
        p50.plot(xs, ys50, marker="o", label=LABELS.get(name, name))
        p99.plot(xs, ys99, marker="o", label=LABELS.get(name, name))
    for ax, title in ((p50, "p50"), (p99, "p99")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("concurrency (connections)")
        ax.set_title(f"B1 latency {title}")
        ax.grid(True, which="both", alpha=0.3)
    p50.set_ylabel("latency (ms, log)")
    p99.legend(fontsize="small")
    written.append(_save(fig, out_dir / f"{stem}-latency.png"))
    return written
