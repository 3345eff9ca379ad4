"""The chaos checker on a real cluster: it reads every service's database (outboxes and
inboxes too) and the dead-letter topics, finds a person's acknowledged write and the events
about them applied in order, and catches the write once it is lost."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from e2e_support import Cluster, GitHubUser, eventually

from codeflow_chaos.checker import check
from codeflow_chaos.history import Operation
from codeflow_chaos.reading import read_state

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def test_the_checker_reads_the_cluster_and_catches_an_acknowledged_write_that_is_lost(
    cluster: Cluster, github_user: GitHubUser
) -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    history: list[Operation] = []
    async with cluster.browser() as browser:
        started = datetime.now(UTC)
        user_id = (await cluster.sign_in(browser, github_user))["user"]["id"]
        history.append(
            Operation(1, github_user.login, user_id, "sign_in", started, datetime.now(UTC), 200)
        )
        started = datetime.now(UTC)
        kept = await cluster.add_repository(github_user, "kept")
        assert isinstance(kept["github_id"], int)
        monitored = await browser.post("/api/repositories", json=kept)
        history.append(
            Operation(
                2,
                github_user.login,
                user_id,
                "monitor",
                started,
                datetime.now(UTC),
                monitored.status_code,
                content_type=monitored.headers.get("content-type"),
                github_ids=(kept["github_id"],),
            )
        )

    async def everywhere() -> bool:
        return all((await cluster.rows_of(user_id)).values())

    await eventually(everywhere, timeout=30, what="the person in every service")

    settled = await read_state(cluster.database_url, bootstrap)

    assert check(history, settled) == []
    # The ordering rule had something to judge: auth's events about the person, applied.
    about_them = {p.message_id for p in settled.produced if p.key == user_id}
    assert {a.consumer for a in settled.applied if a.message_id in about_them} >= {
        "profiles",
        "janitor",
    }

    await cluster.execute("repositories", "DELETE FROM repositories WHERE user_id = $1", user_id)
    found = check(history, await read_state(cluster.database_url, bootstrap))

    assert [(v.rule, v.operations) for v in found] == [("acknowledged-writes-kept", (2,))]
