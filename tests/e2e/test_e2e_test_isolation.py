"""`make test` leaves a developer's running cluster exactly as it found it.

A developer's cluster runs as `make up` runs it (on `make up`'s own ports when they are free),
with a person signed in through the GitHub stand-in who monitors a repository. Then the tests
that used to write into such a cluster run the way a developer runs them: `make
test-integration test-e2e`, from a shell that has even loaded the cluster's `infra.env`
(`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`). Afterwards the person's rows are unchanged in
every database, no topic of the cluster has a new message, no database, topic or consumer
group was added, and the tests' own infrastructure is gone: no process, no data.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from e2e_support import SERVICES, Cluster, GitHubUser, eventually

from codeflow_infra import processes
from codeflow_testing.kafka import group_lag

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
OCTOCAT = GitHubUser(id=583231, login="octocat", email="octocat@github.com")
MAKE_UP_PORTS = {
    "POSTGRES_PORT": 5432,
    "KAFKA_PORT": 9092,
    "KAFKA_CONTROLLER_PORT": 9093,
    "GATEWAY_PORT": 8080,
    "AUTH_PORT": 8001,
    "PROFILES_PORT": 8002,
    "REPOSITORIES_PORT": 8003,
    "JANITOR_PORT": 8004,
    "GITHUB_EMULATOR_PORT": 9000,
}
# When a real `make up` holds its ports on this machine, the developer's cluster of this test
# runs beside it on these.
BESIDE_PORTS = {name: 23000 + port % 1000 for name, port in MAKE_UP_PORTS.items()}
NESTED_PORTS = {
    "TEST_POSTGRES_PORT": "22432",
    "TEST_KAFKA_PORT": "22092",
    "TEST_KAFKA_CONTROLLER_PORT": "22093",
    "TEST_GATEWAY_PORT": "22080",
    "TEST_SERVICE_PORTS": "22001 22002 22003 22004",
    "TEST_GITHUB_EMULATOR_PORT": "22000",
}
# The tests that wrote into a running cluster: they publish commands and events on the real
# topics, and the end-to-end erasure sweeps every idle user with force.
INTEGRATION = (
    "services/auth/tests/integration/flows/test_auth_session_flow.py::"
    "test_delete_user_data_removes_the_user_and_tokens_and_a_repeated_command_is_harmless",
    "services/janitor/tests/integration/test_janitor_saga.py::"
    "test_a_deletion_request_issues_a_requested_deletion_at_once",
    "services/profiles/tests/integration/test_profiles_deletion_flow.py",
)
E2E = (
    "tests/e2e/test_e2e_erasure.py::"
    "test_a_user_inactive_past_the_threshold_is_swept_and_erased_everywhere",
)
# What the test's own run sets, which a developer's shell doesn't have.
NOT_A_DEVELOPERS = {
    "DATABASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "CODEFLOW_LOCAL_DIR",
    "CODEFLOW_GATEWAY_URL",
    "CODEFLOW_EMULATOR_URL",
    *MAKE_UP_PORTS,
}


def developer_environment(local_dir: Path) -> dict[str, str]:
    free = not any(processes.port_accepts("127.0.0.1", p) for p in MAKE_UP_PORTS.values())
    ports = MAKE_UP_PORTS if free else BESIDE_PORTS
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_DEVELOPERS}
    env |= {name: str(port) for name, port in ports.items()}
    env["CODEFLOW_LOCAL_DIR"] = str(local_dir)
    return env


def infra_cli(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "codeflow_infra", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
async def developers_cluster(tmp_path: Path) -> AsyncIterator[tuple[Cluster, dict[str, str]]]:
    """The cluster `make up` runs, in a directory of its own; stopped and left at the end."""
    env = developer_environment(tmp_path / "developer")
    try:
        await asyncio.to_thread(infra_cli, env, "cluster", "up")
        # What `set -a; . .local/infra.env; set +a` gives a developer's shell.
        for line in (tmp_path / "developer" / "infra.env").read_text().splitlines():
            if line and not line.startswith("#"):
                name, value = line.split("=", 1)
                env[name] = value
        cluster = Cluster(
            gateway_url=f"http://127.0.0.1:{env['GATEWAY_PORT']}",
            emulator_url=f"http://127.0.0.1:{env['GITHUB_EMULATOR_PORT']}",
            maintenance_url=env["DATABASE_URL"],
        )
        yield cluster, env
    finally:
        await asyncio.to_thread(infra_cli, env, "cluster", "down")


async def fetch(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(url)
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


async def snapshot(cluster: Cluster, bootstrap: str, user_id: str) -> dict[str, Any]:
    """The person's rows, every table's size, and what the servers hold."""
    person = {
        "users": ("auth", "SELECT * FROM users WHERE id = $1"),
        "accounts": ("auth", "SELECT * FROM accounts WHERE user_id = $1"),
        "sessions": ("auth", "SELECT * FROM sessions WHERE user_id = $1"),
        "user_profiles": ("profiles", "SELECT * FROM user_profiles WHERE user_id = $1"),
        "repositories": ("repositories", "SELECT * FROM repositories WHERE user_id = $1"),
        "user_activity": ("janitor", "SELECT * FROM user_activity WHERE user_id = $1"),
    }
    found: dict[str, Any] = {
        table: await fetch(cluster.database_url(service), sql, user_id)
        for table, (service, sql) in person.items()
    }
    for service in SERVICES:
        url = cluster.database_url(service)
        for row in await fetch(
            url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ):
            table = row["tablename"]
            if table in {"alembic_version"}:
                continue
            [count] = await fetch(url, f'SELECT count(*) AS n FROM "{table}"')  # noqa: S608
            found[f"{service}.{table} rows"] = count["n"]
    found["databases"] = sorted(
        row["datname"]
        for row in await fetch(cluster.maintenance_url, "SELECT datname FROM pg_database")
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        topics = sorted(await admin.list_topics())
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or await _partitions(admin, topic))
        ]
        found["topics"] = topics
        found["end offsets"] = {
            f"{tp.topic}[{tp.partition}]": offset
            for tp, offset in (await consumer.end_offsets(partitions)).items()
        }
        found["consumer groups"] = sorted(group for group, _ in await admin.list_consumer_groups())
    finally:
        await consumer.stop()
        await admin.close()
    return found


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    [described] = await admin.describe_topics([topic])
    return [p["partition"] for p in described["partitions"]]


async def settled(cluster: Cluster, bootstrap: str, user_id: str) -> bool:
    """The sign-in's events have reached every service, and every group has read everything."""
    rows = await cluster.rows_of(user_id)
    if not all(rows.values()):
        return False
    groups = {
        "auth": ["janitor.user-deletion-commands"],
        "profiles": ["auth.user-events"],
        "repositories": ["auth.user-events"],
        "janitor": ["auth.user-events", "user-deletion-acks"],
    }
    for group, topics in groups.items():
        if await group_lag(bootstrap, group, topics) != 0:
            return False
    return True


async def test_make_test_leaves_a_running_cluster_and_its_person_exactly_as_it_found_them(
    developers_cluster: tuple[Cluster, dict[str, str]], tmp_path: Path
) -> None:
    cluster, env = developers_cluster
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    async with cluster.browser() as browser:
        session = await cluster.sign_in(browser, OCTOCAT)
        user_id = session["user"]["id"]
        # The stand-in's own octocat/Hello-World.
        monitored = await browser.post("/api/repositories", json={"github_id": 1296269})
        assert monitored.status_code == 201, monitored.text
        assert monitored.json()["full_name"] == "octocat/Hello-World"

    async def everything_settled() -> bool:
        return await settled(cluster, bootstrap, user_id)

    await eventually(everything_settled, timeout=120, what="the sign-in to reach every service")
    before = await snapshot(cluster, bootstrap, user_id)

    nested = tmp_path / "tests-own"
    make = [
        "make",
        "--no-print-directory",
        "test-integration",
        "test-e2e",
        f"TESTS={' '.join(INTEGRATION)}",
        f"E2E_TESTS={' '.join(E2E)}",
        f"TEST_LOCAL_DIR={nested}",
        *(f"{name}={value}" for name, value in NESTED_PORTS.items()),
    ]
    ran = await asyncio.to_thread(
        subprocess.run, make, env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]

    after = await snapshot(cluster, bootstrap, user_id)
    assert after == before
    assert not (nested / "postgres").exists()
    assert not (nested / "kafka").exists()
    assert processes.pids_referencing(nested) == []
    assert not any(
        processes.port_accepts("127.0.0.1", int(port))
        for ports in NESTED_PORTS.values()
        for port in ports.split()
    )
