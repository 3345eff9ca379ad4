"""One detached process of the local cluster: a service, the GitHub emulator or the gateway.

Each has a pid file in `.local/run/<name>.pid` and a log in `.local/logs/<name>.log`, and is
asked over HTTP whether it is ready. A pid only counts as the component's while the process's
command line still carries the component's marker (pids get reused).
"""

from __future__ import annotations

import http.client
import logging
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeflow_infra import processes
from codeflow_infra.config import HOST

logger = logging.getLogger("codeflow_infra")

STOP_TIMEOUT = 15.0


class ComponentError(RuntimeError):
    """A component did not start or become ready; the message ends with its log's tail."""


def http_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The status of `GET http://127.0.0.1:<port><path>`, or None when nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


@dataclass
class Component:
    """A process to start detached, find again by its pid file, and stop with its group."""

    name: str
    argv: Sequence[str]
    port: int
    ready_path: str
    run_dir: Path
    logs_dir: Path
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    #: A string the process's command line must contain to count as this component.
    marker: str = ""
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pid(self) -> int | None:
        """The pid of the running component, or None."""
        pid = processes.read_pid(self.pid_file)
        if pid is None or not processes.is_alive(pid):
            return None
        args = processes.cmdline(pid)
        if args and self.marker and not any(self.marker in arg for arg in args):
            return None
        return pid

    def is_ready(self) -> bool:
        return http_status(self.port, self.ready_path) == 200

    def start(self) -> int:
        """Start the process unless it runs; return its pid. Does not wait for readiness."""
        pid = self.pid()
        if pid is not None:
            return pid
        if processes.port_accepts(HOST, self.port):
            raise ComponentError(
                f"{self.name}: port {self.port} is taken by another process; stop it or set "
                f"{self.name.upper().replace('-', '_')}_PORT"
            )
        self.cwd.mkdir(parents=True, exist_ok=True)
        pid = processes.spawn_detached(
            self.argv, log_path=self.log_file, cwd=self.cwd, env=dict(self.env)
        )
        processes.write_pid(self.pid_file, pid)
        logger.info("%s started (pid %d), log in %s", self.name, pid, self.log_file)
        return pid

    def wait_ready(self, timeout: float) -> float:
        """Wait until the readiness endpoint answers 200; return the seconds it took."""
        started = time.monotonic()
        while not self.is_ready():
            if self.pid() is None:
                raise ComponentError(
                    f"{self.name} exited while starting; its log ends with:\n"
                    + processes.log_tail(self.log_file)
                )
            if time.monotonic() - started > timeout:
                raise ComponentError(
                    f"{self.name} was not ready ({self.url}{self.ready_path}) within "
                    f"{timeout:.0f} s; its log ends with:\n" + processes.log_tail(self.log_file)
                )
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the process and its group; False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        if not processes.stop_group(pid, self.stop_signal, timeout):
            logger.warning("%s did not stop on %s; killed", self.name, self.stop_signal.name)
        self.pid_file.unlink(missing_ok=True)
        logger.info("%s stopped", self.name)
        return True
