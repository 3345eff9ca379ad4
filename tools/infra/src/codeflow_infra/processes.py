"""Detached server processes: start, find, signal and wait for them.

Servers run in their own session so that they outlive the command that started them and a
Ctrl-C in the operator's terminal does not reach them. They may be children of this process
(then they are reaped here) or orphans adopted by an init that does not reap (then they linger
as zombies, which count as gone).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

_logger = logging.getLogger("codeflow_infra")
_PROC = Path("/proc")
_LOG_ROTATE_BYTES = 20 * 1024 * 1024
_BANNER = "----- "

# Children started by this process, kept so they are reaped (and so no Popen is
# garbage-collected while its process still runs).
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> int:
    """Start `argv` in a new session with output appended to `log_path`; return its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists() and log_path.stat().st_size > _LOG_ROTATE_BYTES:
        log_path.replace(log_path.with_name(log_path.name + ".1"))
    with log_path.open("ab") as log:
        log.write(log_banner(argv))
        log.flush()
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
        )
    _children[process.pid] = process
    return process.pid


def is_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie counts as gone."""
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in {None, "Z", "X"}


def _state(pid: int) -> str | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces and parentheses itself.
    return stat.rpartition(")")[2].split()[0]


def cmdline(pid: int) -> list[str]:
    """The arguments of `pid`, or an empty list when they cannot be read."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(_PROC / str(pid) / "cwd")
    except OSError:
        return None


def _all_pids() -> Iterator[int]:
    with contextlib.suppress(OSError):
        for entry in _PROC.iterdir():
            if entry.name.isdigit():
                yield int(entry.name)


def pids_referencing(path: Path) -> list[int]:
    """Live processes whose arguments name `path` or whose working directory lies in it.

    PostgreSQL's backends rename themselves (`postgres: checkpointer`) but keep the data
    directory as their working directory, so both tests are needed to find them all.
    """
    target = str(path.resolve())
    found = []
    for pid in _all_pids():
        if pid == os.getpid() or not is_alive(pid):
            continue
        cwd = _cwd(pid)
        in_cwd = cwd is not None and (cwd == target or cwd.startswith(target + os.sep))
        if in_cwd or any(target in arg for arg in cmdline(pid)):
            found.append(pid)
    return found


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `pid` to exit; True if it did."""
    child = _children.get(pid)
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        del _children[pid]
        return True
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def stop_process(pid: int, sig: signal.Signals, timeout: float) -> bool:
    """Send `sig`, wait `timeout` seconds, then SIGKILL. True if it exited on `sig` alone."""
    if not is_alive(pid):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if wait_for_exit(pid, timeout):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_for_exit(pid, 10)
    return False


def stop_server(name: str, pid: int, sig: signal.Signals, timeout: float) -> None:
    """Stop the server `name` running as `pid` by `sig` (SIGKILL after `timeout`), saying
    how it went."""
    _logger.info("stopping %s (pid %d)", name, pid)
    started = time.monotonic()
    if stop_process(pid, sig, timeout):
        _logger.info("%s stopped in %.1f s", name, time.monotonic() - started)
    else:
        _logger.warning("%s ignored %s for %.0f s and was killed", name, sig.name, timeout)


def kill_leftovers(name: str, path: Path) -> None:
    """SIGKILL every process of the server `name` still working with `path`."""
    for leftover in pids_referencing(path):
        _logger.warning("killing leftover %s process %d", name, leftover)
        stop_process(leftover, signal.SIGKILL, 10)


def group_members(pgid: int) -> list[int]:
    """Live processes (zombies excluded) in process group `pgid`."""
    members = []
    for pid in _all_pids():
        try:
            stat = (_PROC / str(pid) / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            members.append(pid)
    return members


def stop_group(pgid: int, sig: signal.Signals, timeout: float) -> bool:
    """Stop the session leader `pgid` and everything in its process group.

    Sends `sig` to the group, waits up to `timeout` seconds for the leader, then SIGKILLs
    whatever is left of the group (a worker the leader did not take down with it). True if
    `sig` alone was enough.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    clean = wait_for_exit(pgid, timeout)
    deadline = time.monotonic() + 5
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    leftovers = group_members(pgid)
    if leftovers or not clean:
        clean = False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        wait_for_exit(pgid, 10)
    return clean


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n")


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_banner(command: Sequence[str]) -> bytes:
    """The line that opens each run's part of a log."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return f"\n{_BANNER}{stamp} starting: {' '.join(command)}\n".encode()


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of the latest run's part of the log at `path`."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    latest = text[text.rfind(_BANNER) :] if _BANNER in text else text
    return "\n".join(latest.splitlines()[-lines:])


EXIT_COMMAND_NOT_FOUND = 127


def run_foreground(argv: list[str], env: dict[str, str]) -> int:
    """Run ``argv`` to its end, passing on SIGTERM and SIGHUP; its exit code (128+N if killed)."""
    try:
        child = subprocess.Popen(argv, env=env)
    except FileNotFoundError:
        _logger.error("command not found: %s", argv[0])
        return EXIT_COMMAND_NOT_FOUND

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    def ignore(_signum: int, _frame: FrameType | None) -> None:
        # A Ctrl-C reaches the child through the terminal; let it decide and keep waiting.
        pass

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
        signal.SIGINT: signal.signal(signal.SIGINT, ignore),
    }
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code
