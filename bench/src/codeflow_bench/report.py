"""The Markdown report of one run, rendered from its JSON (``python -m codeflow_bench report``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

REPRODUCE = """\
make bench          # full: starts its own cluster (CODEFLOW_LOCAL_DIR=.local/bench, ports 4xxxx)
make bench-smoke    # a few seconds per benchmark on small data (CI)
uv run python -m codeflow_bench report bench/results/<timestamp>.json   # re-render"""


def fmt(value: Any, digits: int = 3) -> str:
    """A figure for a table: thousands separated, about ``digits`` significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def render(run: Mapping[str, Any], *, plots: Sequence[str] = ()) -> str:
    """The whole report: machine, comparisons, goals, memory, profiles, notes, how to rerun."""
    machine = run.get("machine", {})
    out: list[str] = [
        f"# CodeFlow benchmarks: {run.get('mode', '?')} run of {run.get('started_at', '?')}",
        "",
        "Every figure stands beside a baseline measured in the same run, on the same data and "
        "machine; the ratio is what to compare between runs (these machines are shared and "
        "noisy). Throughput ratios are figure / baseline (higher is better); time and latency "
        "ratios are figure / baseline too (lower is better).",
        "",
        "## Machine",
        "",
        *table(
            ["what", "value"],
            [[str(key), fmt(value)] for key, value in machine.items()],
        ),
        "",
        "## Settings",
        "",
        *table(["what", "value"], [[k, fmt(v)] for k, v in run.get("settings", {}).items()]),
        "",
        "## Figures and baselines",
        "",
    ]
    rows = []
    for c in run.get("comparisons", []):
        better = "higher" if c.get("higher_is_better", True) else "lower"
        rows.append(
            [
                c["benchmark"],
                c["case"],
                f"{c['metric']} ({c['unit']}, {better} is better)",
                fmt(c.get("value")),
                c["baseline_label"],
                fmt(c.get("baseline")),
                fmt_ratio(c.get("ratio")),
            ]
        )
    out += table(
        ["bench", "case", "metric", "figure", "baseline", "baseline figure", "ratio"], rows
    )
    out += ["", "## Goals", ""]
    goal_rows = []
    for g in run.get("goals", []):
        met = g.get("met")
        verdict = "-" if met is None else ("met" if met else "**short**")
        goal_rows.append([g["name"], g["target"], fmt(g.get("figure")), verdict])
    out += table(["goal", "target", "measured", "verdict"], goal_rows)
    shortfalls = [g for g in run.get("goals", []) if g.get("met") is False]
    if shortfalls:
        out += ["", "Shortfalls: " + "; ".join(g["name"] for g in shortfalls) + "."]
    memory = run.get("memory", {})
    if memory:
        out += ["", "## Resident memory (MB, VmRSS of each piece's process tree)", ""]
        pieces = sorted({name for phase in memory.values() for name in phase})
        phases = list(memory)
        out += table(
            ["piece", *phases],
            [[name, *(fmt(memory[phase].get(name)) for phase in phases)] for name in pieces],
        )
    figures = run.get("figures", {})
    if figures:
        out += ["", "## Other figures", ""]
        out += table(["figure", "value"], [[k, fmt(v)] for k, v in figures.items()])
    for profile in run.get("profiles", []):
        out += [
            "",
            f"## Profile: {profile['what']}",
            "",
            f"{profile.get('why', '')} py-spy, {fmt(profile.get('samples'))} samples of "
            f"`{profile.get('target', '?')}`.",
            "",
        ]
        out += table(
            ["self time (leaf frame)", "share"],
            [[f"`{frame}`", f"{share:.1%}"] for frame, share in profile.get("self_top", [])],
        )
        out += [""]
        out += table(
            ["inclusive (anywhere on the stack)", "share"],
            [[f"`{frame}`", f"{share:.1%}"] for frame, share in profile.get("inclusive_top", [])],
        )
        if profile.get("finding"):
            out += ["", f"Largest cause: {profile['finding']}"]
    if plots:
        out += ["", "## Plots", ""]
        out += [f"![{name}]({name})" for name in plots]
    notes = run.get("notes", [])
    if notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    errors = run.get("errors", [])
    if errors:
        out += ["", "## Errors", ""] + [f"- {error}" for error in errors]
    out += ["", "## Reproduce", "", "```sh", REPRODUCE, "```", ""]
    return "\n".join(out)
