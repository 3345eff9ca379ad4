"""The sweep's safety: a sweep that would delete an implausible share of the known users is
refused unless forced, through the API and the command line alike, and only one sweep runs
at a time.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from janitor_support import Janitor, StartJanitor, ago, new_user_id

from codeflow_janitor.__main__ import run_sweep
from codeflow_janitor.db import try_lock_sweep
from codeflow_messaging import transaction
from codeflow_testing.commands import run_module

pytestmark = pytest.mark.integration


async def three_of_four_inactive(janitor: Janitor) -> list[str]:
    idle = [new_user_id() for _ in range(3)]
    active = new_user_id()
    for user in idle:
        await janitor.sign_up(user, at=ago(days=120))
    await janitor.sign_up(active, at=ago(seconds=0))
    await janitor.wait_for_activity(*idle, active)
    return idle


async def cli_sweep(janitor: Janitor, *args: str) -> tuple[int, dict[str, Any]]:
    """``python -m codeflow_janitor sweep ARGS`` against the janitor's database."""
    settings = janitor.settings
    env = {
        **os.environ,
        "CODEFLOW_ENV": "test",
        "JANITOR_DATABASE_URL": settings.database_url,
        "JANITOR_INACTIVE_AFTER": str(settings.inactive_after.total_seconds()),
        "JANITOR_MAX_DELETION_SHARE": str(settings.max_deletion_share),
    }
    finished = await run_module("codeflow_janitor", "sweep", *args, env=env)
    assert finished.stdout, finished.stderr
    return finished.returncode, json.loads(finished.stdout)


async def test_the_share_limit_refuses_a_mass_deletion_and_force_overrides_it(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(max_deletion_share=0.5, inactive_after="1h")
    idle = await three_of_four_inactive(janitor)

    dry = await janitor.sweep(dry_run=True)
    refused = await janitor.sweep()

    assert dry.status_code == 200
    assert (dry.json()["outcome"], dry.json()["issued"]) == ("dry_run", 0)
    assert "3 of 4 known users" in dry.json()["refusal"]
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:codeflow:problem:sweep-refused"
    assert "3 of 4 known users are inactive, more than the 50% allowed" in problem["detail"]
    assert (problem["sweep"]["candidates"], problem["sweep"]["issued"]) == (3, 0)
    assert [await janitor.deletions_of(u) for u in idle] == [[], [], []]

    forced = await janitor.sweep(force=True)

    assert forced.status_code == 200, forced.text
    assert (forced.json()["outcome"], forced.json()["issued"]) == ("issued", 3)
    for user in idle:
        [command] = await janitor.wait_for_commands(user)
        assert command.data.reason == "inactive"


async def test_the_command_line_sweep_is_refused_the_same_way_until_forced(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(max_deletion_share=0.5, inactive_after="1h")
    idle = await three_of_four_inactive(janitor)

    refused_status, refused = await cli_sweep(janitor)

    assert (refused_status, refused["outcome"], refused["issued"]) == (3, "refused", 0)
    assert "JANITOR_MAX_DELETION_SHARE" in refused["refusal"]
    assert [await janitor.deletions_of(u) for u in idle] == [[], [], []]

    forced_status, forced = await cli_sweep(janitor, "--force")

    assert (forced_status, forced["outcome"], forced["issued"]) == (0, "issued", 3)
    # The command line only writes the outbox; the running janitor's relay publishes.
    for user in idle:
        await janitor.wait_for_commands(user)


async def test_only_one_sweep_runs_at_a_time(start_janitor: StartJanitor) -> None:
    janitor = await start_janitor()
    idle = await janitor.recorded_user(signed_up_at=ago(days=120))

    async with transaction(janitor.sessions) as other_sweep:
        assert await try_lock_sweep(other_sweep)
        busy = await janitor.sweep()
        from_command_line = await run_sweep(janitor.settings, dry_run=False, force=False)
        dry = await janitor.sweep(dry_run=True)

    assert busy.status_code == 409
    assert busy.json()["type"] == "urn:codeflow:problem:sweep-in-progress"
    assert from_command_line.outcome == "busy"
    assert (dry.status_code, dry.json()["candidates"]) == (200, 1)
    assert await janitor.deletions_of(idle) == []
    assert (await janitor.sweep()).json()["issued"] == 1
