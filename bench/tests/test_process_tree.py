"""The process-tree sums behind the memory and idle-CPU figures, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeflow_bench.memory import (
    _children,
    _tree_cpu_seconds,
    cpu_seconds,
    idle_cpu_percent,
    tree_rss_mb,
    vm_rss_kb,
)

# Burns a little CPU, so that its own figure is above zero, then waits beside a child.
PARENT = (
    "import subprocess, time; sum(range(3_000_000)); "
    "subprocess.Popen(['sleep', '30']); time.sleep(30)"
)


@pytest.fixture
def parent_with_child() -> Iterator[tuple[int, int]]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not (children := _children(parent.pid)):
            assert time.monotonic() < deadline, "the child process never appeared"
            time.sleep(0.05)
        yield parent.pid, children[0]
    finally:
        os.killpg(parent.pid, 9)
        parent.wait()


def test_memory_of_a_tree_counts_the_parent_and_its_child(
    parent_with_child: tuple[int, int],
) -> None:
    parent, child = parent_with_child
    each_kb = [vm_rss_kb(Path(f"/proc/{pid}/status").read_text()) or 0 for pid in (parent, child)]
    total = tree_rss_mb(parent)
    assert total is not None
    assert total == pytest.approx(sum(each_kb) / 1024, rel=0.1)
    assert total > each_kb[0] / 1024


def test_cpu_of_a_tree_is_at_least_the_parents(parent_with_child: tuple[int, int]) -> None:
    parent, _ = parent_with_child
    ticks = float(os.sysconf("SC_CLK_TCK"))
    alone = cpu_seconds(Path(f"/proc/{parent}/stat").read_text(), ticks)
    total = _tree_cpu_seconds(parent, ticks)
    assert total is not None
    assert total >= alone > 0


# Starts a child that burns about 0.6 s of CPU, waits for it to end, then stays.
PARENT_OF_A_BUSY_CHILD = (
    "import subprocess, sys, time; "
    "burn = 'import time\\nend = time.process_time() + 0.6\\n"
    "while time.process_time() < end: pass'; "
    "subprocess.Popen([sys.executable, '-c', burn]).wait(); time.sleep(30)"
)


def test_cpu_of_a_tree_keeps_what_a_child_that_ended_used() -> None:
    # PostgreSQL's backends and autovacuum workers come and go: a tree's CPU must not fall
    # when one ends, or a window over it reads a negative share (B7 once began on -20.5%).
    ticks = float(os.sysconf("SC_CLK_TCK"))
    parent = subprocess.Popen([sys.executable, "-c", PARENT_OF_A_BUSY_CHILD])
    try:
        deadline = time.monotonic() + 10
        while not (children := _children(parent.pid)) or (
            cpu_seconds(Path(f"/proc/{children[0]}/stat").read_text(), ticks) < 0.3
        ):
            assert time.monotonic() < deadline, "the busy child never got going"
            time.sleep(0.02)
        during = _tree_cpu_seconds(parent.pid, ticks)
        while _children(parent.pid):
            assert time.monotonic() < deadline, "the busy child never ended"
            time.sleep(0.02)
        after = _tree_cpu_seconds(parent.pid, ticks)
    finally:
        parent.kill()
        parent.wait()
    assert during is not None
    assert after is not None
    assert after >= during >= 0.3


def test_a_process_that_is_gone_has_no_figure() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert tree_rss_mb(gone.pid) is None
    assert _tree_cpu_seconds(gone.pid, 100.0) is None


class NothingRunning:
    def pid(self, piece: str) -> int | None:
        return None


def test_idle_cpu_measures_a_process_beside_the_pieces_in_the_same_window(
    parent_with_child: tuple[int, int],
) -> None:
    parent, _ = parent_with_child
    shares = idle_cpu_percent(
        NothingRunning(),  # type: ignore[arg-type]
        0.3,
        pieces=["auth"],
        beside={"baseline": parent},
    )
    assert shares["auth"] is None
    share = shares["baseline"]
    assert share is not None
    assert 0 <= share < 100
