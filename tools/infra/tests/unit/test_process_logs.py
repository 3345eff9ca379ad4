from pathlib import Path

from codeflow_infra.processes import log_banner, log_tail


def test_a_log_tail_shows_only_the_latest_run(tmp_path: Path) -> None:
    log = tmp_path / "kafka.log"
    log.write_bytes(
        log_banner(["java", "format"])
        + b"config dump\n" * 100
        + log_banner(["java", "start"])
        + b"Error occurred during initialization of VM\n"
    )

    tail = log_tail(log).splitlines()

    assert "starting: java start" in tail[0]
    assert tail[1:] == ["Error occurred during initialization of VM"]


def test_a_long_run_is_cut_to_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "postgres.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))

    assert log_tail(log, lines=3).splitlines() == ["line 97", "line 98", "line 99"]


def test_a_missing_log_says_so(tmp_path: Path) -> None:
    assert "no log at" in log_tail(tmp_path / "absent.log")
