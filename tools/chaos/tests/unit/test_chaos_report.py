"""A run's report, from a small hand-made run: the three files, the same verdicts and counts
in the JSON as in the markdown, every rule named with its verdict, and a real PNG."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codeflow_chaos.checker import RULES, Verdict, Violation
from codeflow_chaos.fault_log import Fault, read_faults, write_faults
from codeflow_chaos.history import Operation
from codeflow_chaos.report import Run, write_report
from codeflow_chaos.timeline import buckets

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def op(seq: int, second: float, status: int | None) -> Operation:
    return Operation(seq, "person-ada", "ada", "dashboard", at(second), at(second + 0.2), status)


RUN = Run(
    seed=42,
    commit="0123abc",
    command="make chaos SEED=42 DURATION=10",
    started=T0,
    ended=at(10),
    settings={"people": 3, "duration": 10, "replicas": 2},
)
HISTORY = [
    op(1, 0.5, 200),
    op(2, 1.5, 200),
    op(3, 2.5, None),
    op(4, 3.5, 503),
    op(5, 4.5, 401),
    op(6, 9.5, 200),
]
FAULTS = [
    Fault("kill", "auth-2", at(2), at(4), "SIGKILL"),
    Fault("pause", "profiles-1", at(5), at(6)),
    Fault("latency", "pg-profiles", at(7), None, "200 ms"),
    Fault("kill", "janitor-1", at(8), at(9)),
]
BROKEN = Violation("errors-are-problems", "dashboard got no answer within the timeout", (3,))
VERDICTS = [
    Verdict(rule.name, (BROKEN,) if rule.name == "errors-are-problems" else ()) for rule in RULES
]


def test_the_report_is_written_as_markdown_json_and_a_png(tmp_path: Path) -> None:
    files = write_report(tmp_path / "run", RUN, HISTORY, FAULTS, VERDICTS)

    assert files.markdown.read_text().startswith("# Chaos run, seed 42")
    assert files.timeline.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert json.loads(files.json.read_text())["seed"] == 42


def test_the_json_holds_the_verdicts_and_the_counts(tmp_path: Path) -> None:
    data = json.loads(write_report(tmp_path, RUN, HISTORY, FAULTS, VERDICTS).json.read_text())

    assert [(i["rule"], i["verdict"]) for i in data["invariants"]] == [
        (v.rule, "HOLDS" if v.holds else "VIOLATED") for v in VERDICTS
    ]
    [violated] = [i for i in data["invariants"] if i["violations"]]
    assert violated["violations"] == [{"detail": BROKEN.detail, "operations": [3]}]
    assert data["summary"] == {
        "holds": False,
        "rules": len(RULES),
        "violated": ["errors-are-problems"],
    }
    assert (data["commit"], data["command"], data["settings"]) == (
        RUN.commit,
        RUN.command,
        RUN.settings,
    )
    operations = data["operations"]
    assert (operations["total"], operations["errors"], operations["client_errors"]) == (6, 2, 1)
    assert operations["per_second"] == 0.6
    assert data["faults"]["by_kind"] == {"kill": 2, "latency": 1, "pause": 1}
    assert data["faults"]["list"][0] == {
        "kind": "kill",
        "target": "auth-2",
        "start": 2.0,
        "end": 4.0,
        "note": "SIGKILL",
    }
    assert data["faults"]["list"][2]["end"] is None


def test_the_markdown_names_each_rule_its_verdict_and_how_to_run_again(tmp_path: Path) -> None:
    markdown = write_report(tmp_path, RUN, HISTORY, FAULTS, VERDICTS).markdown.read_text()

    for rule in RULES:
        verdict = "VIOLATED" if rule.name == "errors-are-problems" else "HOLDS"
        assert f"| {rule.name} | {verdict} |" in markdown
    assert f"### errors-are-problems: VIOLATED\n\n- {BROKEN.detail} (operations 3)" in markdown
    assert f"1 of {len(RULES)} invariants VIOLATED" in markdown
    assert "make chaos SEED=42 DURATION=10" in markdown
    assert "4 faults: kill 2, latency 1, pause 1" in markdown
    assert "| latency | pg-profiles | 7 | never ended | 200 ms |" in markdown
    assert "| commit | `0123abc` |" in markdown
    assert "| replicas | 2 |" in markdown


def test_a_run_where_every_rule_holds_says_so(tmp_path: Path) -> None:
    holding = [Verdict(rule.name) for rule in RULES]

    markdown = write_report(tmp_path, RUN, HISTORY, [], holding).markdown.read_text()

    assert f"**All {len(RULES)} invariants hold.**" in markdown
    assert "VIOLATED" not in markdown


def test_operations_are_counted_in_the_second_they_started() -> None:
    found = buckets(HISTORY, RUN.started, RUN.ended)

    assert len(found) == 10
    assert [(b.operations, b.errors, b.client_errors) for b in found[:5]] == [
        (1, 0, 0),
        (1, 0, 0),
        (1, 1, 0),
        (1, 1, 0),
        (1, 0, 1),
    ]
    assert found[9].operations == 1


def test_faults_survive_their_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.jsonl"
    write_faults(path, FAULTS)

    assert list(read_faults(path)) == FAULTS
