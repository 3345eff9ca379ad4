"""A run's report: what ran, what was done to it, what the clients saw, and each invariant's
verdict, with the command that runs it again.

:func:`write_report` writes three files into a directory: ``report.md`` for people,
``report.json`` with the same data for programs, and ``timeline.png`` (see
:mod:`codeflow_chaos.timeline`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from codeflow_chaos.checker import Verdict
from codeflow_chaos.fault_log import Fault
from codeflow_chaos.history import Operation
from codeflow_chaos.timeline import buckets, is_client_error, is_error, plot_timeline

MARKDOWN = "report.md"
JSON = "report.json"
TIMELINE = "timeline.png"

SHOWN = 20
"""Violations per rule, and operations per violation, the markdown lists (the JSON has all)."""


@dataclass(frozen=True)
class Run:
    """What identifies a run, and how to run it again."""

    seed: int
    commit: str
    command: str
    """The exact command that repeats the run."""
    started: datetime
    ended: datetime
    settings: Mapping[str, Any]
    """People, duration, replicas...: JSON values."""


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    json: Path
    timeline: Path


def write_report(
    directory: Path,
    run: Run,
    history: Sequence[Operation],
    faults: Sequence[Fault],
    verdicts: Sequence[Verdict],
) -> ReportFiles:
    """Write the report of ``run`` into ``directory`` (created if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(directory / MARKDOWN, directory / JSON, directory / TIMELINE)
    data = report_data(run, history, faults, verdicts)
    files.json.write_text(json.dumps(data, indent=2) + "\n")
    files.markdown.write_text(render_markdown(data))
    plot_timeline(files.timeline, history, faults, run.started, run.ended)
    return files


def report_data(
    run: Run,
    history: Sequence[Operation],
    faults: Sequence[Fault],
    verdicts: Sequence[Verdict],
) -> dict[str, Any]:
    """Everything the report says, as JSON values; times of faults and intervals are seconds
    since the run started."""
    duration = (run.ended - run.started).total_seconds()

    def since_start(moment: datetime | None) -> float | None:
        return None if moment is None else round((moment - run.started).total_seconds(), 3)

    violated = [v.rule for v in verdicts if not v.holds]
    return {
        "seed": run.seed,
        "commit": run.commit,
        "command": run.command,
        "started": run.started.isoformat(),
        "ended": run.ended.isoformat(),
        "duration_seconds": round(duration, 3),
        "settings": dict(run.settings),
        "summary": {"holds": not violated, "rules": len(verdicts), "violated": violated},
        "operations": {
            "total": len(history),
            "per_second": round(len(history) / duration, 3) if duration > 0 else None,
            "errors": sum(map(is_error, history)),
            "client_errors": sum(map(is_client_error, history)),
            "by_kind": dict(sorted(Counter(op.kind for op in history).items())),
            "timeline": [
                {
                    "start": b.start,
                    "operations": b.operations,
                    "errors": b.errors,
                    "client_errors": b.client_errors,
                }
                for b in buckets(history, run.started, run.ended)
            ],
        },
        "faults": {
            "by_kind": dict(sorted(Counter(f.kind for f in faults).items())),
            "list": [
                {
                    "kind": f.kind,
                    "target": f.target,
                    "start": since_start(f.started),
                    "end": since_start(f.ended),
                    "note": f.note,
                }
                for f in sorted(faults, key=lambda f: f.started)
            ],
        },
        "invariants": [
            {
                "rule": verdict.rule,
                "verdict": "HOLDS" if verdict.holds else "VIOLATED",
                "violations": [
                    {"detail": v.detail, "operations": list(v.operations)}
                    for v in verdict.violations
                ],
            }
            for verdict in verdicts
        ],
    }


def render_markdown(data: Mapping[str, Any]) -> str:
    """The report for people, from :func:`report_data`'s data."""
    summary, operations, faults = data["summary"], data["operations"], data["faults"]
    if summary["holds"]:
        verdict = f"**All {summary['rules']} invariants hold.**"
    else:
        verdict = (
            f"**{len(summary['violated'])} of {summary['rules']} invariants VIOLATED:** "
            + ", ".join(summary["violated"])
        )
    lines = [
        f"# Chaos run, seed {data['seed']}",
        "",
        verdict,
        "",
        "| | |",
        "| --- | --- |",
        f"| seed | {data['seed']} |",
        f"| commit | `{data['commit']}` |",
        f"| started | {data['started']} |",
        f"| ended | {data['ended']} ({data['duration_seconds']:g} s) |",
        *(f"| {name} | {_cell(value)} |" for name, value in data["settings"].items()),
        "",
        "Run it again:",
        "",
        "```sh",
        data["command"],
        "```",
        "",
        "## Workload",
        "",
        f"{operations['total']} operations ({operations['per_second']} per second): "
        f"{operations['errors']} errors (no answer or 5xx), "
        f"{operations['client_errors']} client errors (4xx).",
        "",
        *(f"- {kind}: {count}" for kind, count in operations["by_kind"].items()),
        "",
        f"![operations and errors per second, faults shaded]({TIMELINE})",
        "",
        "## Faults",
        "",
        f"{len(faults['list'])} faults"
        + (
            ": " + ", ".join(f"{k} {n}" for k, n in faults["by_kind"].items())
            if faults["list"]
            else "."
        ),
        "",
    ]
    if faults["list"]:
        lines += ["| kind | target | from (s) | to (s) | note |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {f['kind']} | {f['target']} | {f['start']:g} | "
            f"{'never ended' if f['end'] is None else format(f['end'], 'g')} | {_cell(f['note'])} |"
            for f in faults["list"]
        ]
        lines.append("")
    lines += ["## Invariants", "", "| invariant | verdict |", "| --- | --- |"]
    lines += [f"| {i['rule']} | {i['verdict']} |" for i in data["invariants"]]
    for invariant in data["invariants"]:
        violations = invariant["violations"]
        if not violations:
            continue
        lines += ["", f"### {invariant['rule']}: {invariant['verdict']}", ""]
        lines += [_violation_line(v) for v in violations[:SHOWN]]
        if len(violations) > SHOWN:
            lines.append(f"- ... and {len(violations) - SHOWN} more (see {JSON})")
    return "\n".join(lines) + "\n"


def _violation_line(violation: Mapping[str, Any]) -> str:
    seqs = violation["operations"]
    if not seqs:
        return f"- {violation['detail']}"
    shown = ", ".join(map(str, seqs[:SHOWN])) + (", ..." if len(seqs) > SHOWN else "")
    return f"- {violation['detail']} (operations {shown})"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
