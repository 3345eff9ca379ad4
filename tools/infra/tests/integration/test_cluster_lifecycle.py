"""`cluster up` twice, then `cluster down`, through the CLI on a private directory and ports.

The cluster gets its own PostgreSQL and Kafka here (not the session's), so that its
services' consumer groups never meet those of a cluster someone is using.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from launcher_support import kill_remaining, remaining_processes

from codeflow_infra import gateway, processes
from codeflow_testing.ports import free_ports
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PORT_NAMES = (
    "POSTGRES_PORT",
    "KAFKA_PORT",
    "KAFKA_CONTROLLER_PORT",
    "GATEWAY_PORT",
    "AUTH_PORT",
    "PROFILES_PORT",
    "REPOSITORIES_PORT",
    "JANITOR_PORT",
    "GITHUB_EMULATOR_PORT",
)
# Settings of the caller's own cluster that must not leak into this one.
FOREIGN = {
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "GITHUB_CLIENT_ID",
    "AUTH_URL",
    "NEXTAUTH_URL",
}


@dataclass
class LocalCluster:
    local_dir: Path
    env: dict[str, str]

    def port(self, name: str) -> int:
        return int(self.env[name])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codeflow_infra", "cluster", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )

    def pids(self) -> dict[str, int]:
        run_dir = self.local_dir / "run"
        found = {path.stem: processes.read_pid(path) for path in run_dir.glob("*.pid")}
        return {name: pid for name, pid in found.items() if pid is not None}

    def get(self, path: str) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port("GATEWAY_PORT"), timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.getheader("content-type", ""), response.read()
        finally:
            connection.close()

    def remaining_processes(self) -> list[str]:
        return remaining_processes(self.local_dir)


@pytest.fixture
def local_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    if gateway.nginx_binary() is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    local_dir = tmp_path / "local"
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
    env |= dict(zip(PORT_NAMES, map(str, free_ports(len(PORT_NAMES))), strict=True))
    env["CODEFLOW_LOCAL_DIR"] = str(local_dir)
    cluster = LocalCluster(local_dir, env)
    try:
        yield cluster
    finally:
        cluster.cli("down")
        kill_remaining(local_dir)


async def test_up_twice_changes_nothing_and_down_leaves_no_process(
    local_cluster: LocalCluster,
) -> None:
    started = time.monotonic()
    first = await asyncio.to_thread(local_cluster.cli, "up")
    print(f"first up: {time.monotonic() - started:.1f} s\n{first.stderr}")
    assert first.returncode == 0, first.stderr
    assert f"http://127.0.0.1:{local_cluster.port('GATEWAY_PORT')}" in first.stdout
    pids = local_cluster.pids()
    assert {"postgres", "kafka", "github-emulator", "gateway"} <= set(pids), pids
    assert all(processes.is_alive(pid) for pid in pids.values()), pids

    status, content_type, body = await asyncio.to_thread(local_cluster.get, "/api/profiles/me")
    assert (status, content_type) == (401, "application/problem+json"), body
    if "auth" in pids:
        status, _, body = await asyncio.to_thread(local_cluster.get, "/api/docs/auth.json")
        assert status == 200
        assert json.loads(body)["info"]["title"]
    assert (await asyncio.to_thread(local_cluster.cli, "ps")).returncode == 0

    started = time.monotonic()
    second = await asyncio.to_thread(local_cluster.cli, "up")
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - started < 30
    assert "gateway already running" in second.stderr
    assert "started" not in second.stderr
    assert local_cluster.pids() == pids

    down = await asyncio.to_thread(local_cluster.cli, "down")
    assert down.returncode == 0, down.stderr
    for name, pid in pids.items():
        assert not processes.is_alive(pid), f"{name} (pid {pid}) still runs"
        assert processes.group_members(pid) == [], f"{name}'s process group outlived it"
    assert local_cluster.remaining_processes() == []
    for name in PORT_NAMES:
        assert not processes.port_accepts("127.0.0.1", local_cluster.port(name)), name
    assert (await asyncio.to_thread(local_cluster.cli, "ps")).returncode == 3


def test_run_whose_start_fails_half_way_leaves_no_process(local_cluster: LocalCluster) -> None:
    # Someone else holds the gateway's port: everything else starts, then nginx can't bind.
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", local_cluster.port("GATEWAY_PORT")))
        squatter.listen()
        result = local_cluster.cli("run", "--", sys.executable, "-c", "pass")

    assert result.returncode != 0
    assert "gateway: port" in result.stderr
    assert "is taken by another process" in result.stderr
    assert local_cluster.remaining_processes() == []


def replica_ports() -> dict[str, str]:
    """A block of free ports with room for a second replica of each service (+100)."""
    for base in range(20000, 21000, 200):
        ports = {
            "POSTGRES_PORT": base,
            "KAFKA_PORT": base + 1,
            "KAFKA_CONTROLLER_PORT": base + 2,
            "GATEWAY_PORT": base + 3,
            "GITHUB_EMULATOR_PORT": base + 4,
            "AUTH_PORT": base + 11,
            "PROFILES_PORT": base + 12,
            "REPOSITORIES_PORT": base + 13,
            "JANITOR_PORT": base + 14,
        }
        every = [*ports.values(), *(port + 100 for port in list(ports.values())[5:])]
        if not any(processes.port_accepts("127.0.0.1", port) for port in every):
            return {name: str(port) for name, port in ports.items()}
    pytest.skip("no free block of ports for a cluster with replicas")


_ASSIGNED = re.compile(r"TopicPartition\(topic='([^']+)', partition=(\d+)\)")


def latest_assignment(log: Path) -> set[tuple[str, int]]:
    """The partitions a replica's consumer was last assigned, from its log."""
    if not log.exists():
        return set()
    lines = [line for line in log.read_text().splitlines() if "assigned to partitions" in line]
    if not lines:
        return set()
    return {(topic, int(n)) for topic, n in _ASSIGNED.findall(lines[-1])}


async def test_replicas_serve_behind_the_gateway_in_one_consumer_group_per_service(
    local_cluster: LocalCluster,
) -> None:
    local_cluster.env |= replica_ports() | {"CODEFLOW_REPLICAS": "2"}

    up = await asyncio.to_thread(local_cluster.cli, "up")

    assert up.returncode == 0, up.stderr
    pids = local_cluster.pids()
    services = {"auth", "profiles", "repositories", "janitor"}
    assert services | {f"{name}-2" for name in services} <= set(pids), pids
    ps = await asyncio.to_thread(local_cluster.cli, "ps")
    assert ps.returncode == 0, ps.stdout
    assert "profiles-2" in ps.stdout

    logs = local_cluster.local_dir / "logs"

    async def partitions_shared() -> bool:
        # Members of one group split the partitions; two groups would each get them all.
        for name in services:
            first = latest_assignment(logs / f"{name}.log")
            second = latest_assignment(logs / f"{name}-2.log")
            if not first or not second or first & second:
                return False
        return True

    await wait_until(partitions_shared, timeout=90, what="each service's replicas to split")

    for _ in range(12):
        status, _, _ = await asyncio.to_thread(local_cluster.get, "/api/docs/profiles.json")
        assert status == 200
    access_log = local_cluster.local_dir / "gateway" / "logs" / "access.log"
    upstreams = {
        json.loads(line)["upstream"]
        for line in access_log.read_text().splitlines()
        if "/api/docs/profiles.json" in line
    }
    first = local_cluster.port("PROFILES_PORT")
    assert upstreams == {f"127.0.0.1:{first}", f"127.0.0.1:{first + 100}"}

    down = await asyncio.to_thread(local_cluster.cli, "down")
    assert down.returncode == 0, down.stderr
    assert local_cluster.remaining_processes() == []
