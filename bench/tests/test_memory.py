"""Reading CPU time and memory from /proc's text (no I/O), and the libraries' floor."""

from __future__ import annotations

from codeflow_bench.memory import cpu_seconds, libraries_alone_mb, vm_rss_kb

STAT = (
    "4242 (python -m codeflow) S 1 4242 4242 0 -1 4194560 3210 0 0 0 "
    "150 50 0 0 20 0 5 0 100 123456789 30000 18446744073709551615"
)


def test_cpu_time_is_user_plus_system_ticks() -> None:
    assert cpu_seconds(STAT, 100.0) == 2.0


def test_cpu_time_of_ended_children_is_added_when_asked() -> None:
    waited_for = STAT.replace(" 150 50 0 0 ", " 150 50 30 20 ")
    assert cpu_seconds(waited_for, 100.0) == 2.0
    assert cpu_seconds(waited_for, 100.0, ended_children=True) == 2.5


def test_the_resident_set_is_read_in_kilobytes() -> None:
    assert vm_rss_kb("Name:\tpython\nVmRSS:\t  104112 kB\nThreads:\t5\n") == 104112
    assert vm_rss_kb("Name:\tkthreadd\n") is None


def test_the_libraries_alone_hold_memory_of_their_own() -> None:
    alone = libraries_alone_mb(("json",))
    assert alone is not None
    assert alone < (libraries_alone_mb() or 0.0)
