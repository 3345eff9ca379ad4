"""The launcher, driven through its CLI on a private directory and private ports."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import pytest
from launcher_support import kill_remaining, remaining_processes

from codeflow_infra import processes
from codeflow_infra.kafka import metadata_ready, start_broker, stop_broker
from codeflow_infra.postgres import database_url
from codeflow_testing.ports import free_ports
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

# Ports of their own, so that these tests never meet the infrastructure of the session (or
# of another checkout). The preferred ones are used when free.
PREFERRED_PORTS = (15432, 19092, 19093)


@dataclass
class Infra:
    local_dir: Path
    env: dict[str, str]
    postgres_port: int
    kafka_port: int

    @property
    def maintenance_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/postgres"

    @property
    def auth_url(self) -> str:
        return database_url(self.maintenance_url, "codeflow_auth")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codeflow_infra", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def up(self) -> subprocess.CompletedProcess[str]:
        result = self.cli("up")
        assert result.returncode == 0, result.stderr
        return result

    def down(self) -> None:
        result = self.cli("down")
        assert result.returncode == 0, result.stderr

    def pids(self) -> dict[str, int | None]:
        run_dir = self.local_dir / "run"
        return {name: processes.read_pid(run_dir / f"{name}.pid") for name in ("postgres", "kafka")}

    def remaining_processes(self) -> list[str]:
        return remaining_processes(self.local_dir)


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Infra]:
    local_dir = tmp_path / "local"
    postgres_port, kafka_port, controller_port = free_ports(3, PREFERRED_PORTS)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_HEAP_OPTS"}
    }
    env |= {
        "CODEFLOW_LOCAL_DIR": str(local_dir),
        "POSTGRES_PORT": str(postgres_port),
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    infra = Infra(local_dir, env, postgres_port, kafka_port)
    try:
        yield infra
    finally:
        infra.cli("down")
        kill_remaining(local_dir)


async def query(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


async def execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def table_exists(url: str, name: str) -> bool:
    rows = await query(
        url,
        f"SELECT to_regclass('{name}') IS NOT NULL AS present",
    )
    return bool(rows[0]["present"])


def assert_all_gone(infra: Infra, pids: dict[str, int | None]) -> None:
    for name, pid in pids.items():
        assert pid is not None, f"{name} had no pid file"
        assert not processes.is_alive(pid), f"{name} (pid {pid}) still runs"
    assert infra.remaining_processes() == []
    assert not processes.port_accepts("127.0.0.1", infra.postgres_port)
    assert not processes.port_accepts("127.0.0.1", infra.kafka_port)


async def test_up_serves_both_and_down_leaves_nothing_behind_while_data_survives(
    infra: Infra,
) -> None:
    assert infra.cli("status").returncode == 3

    started = time.monotonic()
    first = await asyncio.to_thread(infra.up)
    print(f"first up: {time.monotonic() - started:.1f} s\n{first.stderr}")
    pids = infra.pids()
    assert all(pid is not None and processes.is_alive(pid) for pid in pids.values()), pids
    assert (infra.local_dir / "infra.env").read_text().splitlines()[-2:] == [
        f"KAFKA_BOOTSTRAP_SERVERS={infra.bootstrap}",
        f"DATABASE_URL={infra.maintenance_url}",
    ]
    databases = {
        row["datname"]
        for row in await query(infra.maintenance_url, "SELECT datname FROM pg_database")
    }
    assert {
        "codeflow_auth",
        "codeflow_profiles",
        "codeflow_repositories",
        "codeflow_janitor",
    } <= databases
    assert await metadata_ready(infra.bootstrap)
    assert infra.cli("status").returncode == 0

    env_written = (infra.local_dir / "infra.env").stat().st_mtime_ns
    started = time.monotonic()
    second = await asyncio.to_thread(infra.up)
    assert time.monotonic() - started < 15
    assert "already running" in second.stderr
    assert infra.pids() == pids
    assert (infra.local_dir / "infra.env").stat().st_mtime_ns == env_written

    auth_url = infra.auth_url
    await execute(
        auth_url, "CREATE TABLE survivor (id int PRIMARY KEY); INSERT INTO survivor VALUES (42)"
    )

    await asyncio.to_thread(infra.down)
    assert_all_gone(infra, pids)
    assert infra.cli("status").returncode == 3
    assert not (infra.local_dir / "infra.env").exists()

    await asyncio.to_thread(infra.up)
    assert await query(auth_url, "SELECT id FROM survivor") == [(42,)]
    cluster_id = (infra.local_dir / "kafka" / "cluster.id").read_text().strip()
    assert cluster_id in (infra.local_dir / "kafka" / "data" / "meta.properties").read_text()
    restarted = infra.pids()
    await asyncio.to_thread(infra.down)
    assert_all_gone(infra, restarted)


async def test_a_fault_test_can_stop_the_broker_and_bring_it_back(infra: Infra) -> None:
    await asyncio.to_thread(infra.up)
    before = infra.pids()["kafka"]
    assert before is not None

    assert await asyncio.to_thread(stop_broker, infra.local_dir)
    assert not processes.is_alive(before)
    assert not await metadata_ready(infra.bootstrap, request_timeout=2)
    assert not await asyncio.to_thread(stop_broker, infra.local_dir)

    took = await asyncio.to_thread(start_broker, infra.local_dir)
    print(f"broker back in {took:.1f} s")
    assert await metadata_ready(infra.bootstrap)
    after = infra.pids()
    assert after["kafka"] not in (None, before)

    await asyncio.to_thread(infra.down)
    assert_all_gone(infra, after)


async def test_run_starts_what_is_missing_and_stops_only_that(infra: Infra) -> None:
    script = (
        "import os, sys; "
        "print(os.environ['DATABASE_URL'], os.environ['KAFKA_BOOTSTRAP_SERVERS']); "
        "sys.exit(7)"
    )
    result = await asyncio.to_thread(infra.cli, "run", "--", sys.executable, "-c", script)
    assert result.returncode == 7, result.stderr
    assert result.stdout.split() == [infra.maintenance_url, infra.bootstrap]
    assert infra.remaining_processes() == []

    await asyncio.to_thread(infra.up)
    pids = infra.pids()
    result = await asyncio.to_thread(infra.cli, "run", "--", sys.executable, "-c", "pass")
    assert result.returncode == 0, result.stderr
    assert infra.pids() == pids
    assert all(pid is not None and processes.is_alive(pid) for pid in pids.values())
    await asyncio.to_thread(infra.down)
    assert_all_gone(infra, pids)


async def test_reset_deletes_the_data(infra: Infra) -> None:
    await asyncio.to_thread(infra.up)
    auth_url = infra.auth_url
    await execute(auth_url, "CREATE TABLE doomed (id int)")

    result = await asyncio.to_thread(infra.cli, "reset")
    assert result.returncode == 0, result.stderr
    assert infra.remaining_processes() == []
    assert not (infra.local_dir / "postgres").exists()
    assert not (infra.local_dir / "kafka").exists()
    assert not (infra.local_dir / "infra.env").exists()
    assert not (infra.local_dir / "kafka").exists()

    await asyncio.to_thread(infra.up)
    assert not await table_exists(auth_url, "doomed")
    await asyncio.to_thread(infra.down)


async def test_an_ephemeral_run_clears_what_a_killed_run_left_and_deletes_all_when_it_fails(
    infra: Infra,
) -> None:
    # The runner is killed outright (SIGKILL: no cleanup) while its command runs. Its
    # servers run on, detached, with the data the command made.
    killed = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "codeflow_infra", "run", "--ephemeral", "--", "sleep", "300"],
        env=infra.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        async def serving() -> bool:
            return processes.port_accepts("127.0.0.1", infra.kafka_port) and (
                processes.port_accepts("127.0.0.1", infra.postgres_port)
            )

        await wait_until(serving, timeout=120, what="the killed run's servers to serve")
        await execute(infra.maintenance_url, "CREATE DATABASE left_by_a_killed_run")
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # the runner and its `sleep`, not the servers
        await asyncio.to_thread(killed.wait, 30)
    left = infra.pids()
    assert all(pid is not None and processes.is_alive(pid) for pid in left.values()), left

    # The next run starts from nothing, and its command fails (exit 3) after making data of
    # its own, which goes too.
    check = (
        "import asyncio, os, sys, asyncpg\n"
        "async def main():\n"
        "    c = await asyncpg.connect(os.environ['DATABASE_URL'])\n"
        "    names = {r[0] for r in await c.fetch('SELECT datname FROM pg_database')}\n"
        "    await c.execute('CREATE DATABASE made_by_a_failing_run')\n"
        "    await c.close()\n"
        "    sys.exit(4 if 'left_by_a_killed_run' in names else 3)\n"
        "asyncio.run(main())\n"
    )
    result = await asyncio.to_thread(
        infra.cli, "run", "--ephemeral", "--", sys.executable, "-c", check
    )

    assert result.returncode == 3, result.stderr  # 4: the killed run's data was still there
    assert all(not processes.is_alive(pid) for pid in left.values() if pid is not None)
    assert infra.remaining_processes() == []
    assert not (infra.local_dir / "postgres").exists()
    assert not (infra.local_dir / "kafka").exists()
    assert not (infra.local_dir / "infra.env").exists()
