"""The janitor's metrics: the deletions ledger by status, read from its table at each scrape,
and the sweeps by outcome, whether an admin asked for them or the schedule ran them."""

from __future__ import annotations

import pytest
from janitor_support import Janitor, StartJanitor, ago, new_user_id
from prometheus_client.parser import text_string_to_metric_families

from codeflow_testing.waiting import wait_until

pytestmark = pytest.mark.integration


async def scrape(janitor: Janitor) -> dict[tuple[str, str], float]:
    """Each ``janitor_*`` sample on ``/metrics`` by its name and its one label's value."""
    response = await janitor.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, next(iter(sample.labels.values()), "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("janitor_")
    }


async def test_a_deletion_is_counted_pending_then_overdue_then_complete(
    start_janitor: StartJanitor,
) -> None:
    janitor = await start_janitor(ack_timeout="PT2S")
    idle = new_user_id()
    await janitor.sign_up(idle, at=ago(days=100))
    await janitor.wait_for_activity(idle)

    assert (await janitor.sweep(dry_run=True)).status_code == 200
    assert (await janitor.sweep()).status_code == 200
    [command] = await janitor.wait_for_commands(idle)

    shown = await scrape(janitor)
    assert shown[("janitor_sweeps_total", "dry_run")] == 1
    assert shown[("janitor_sweeps_total", "issued")] == 1
    assert shown[("janitor_sweeps_total", "refused")] == 0
    assert shown[("janitor_deletions", "pending")] == 1
    assert shown[("janitor_deletions", "complete")] == 0

    async def overdue() -> bool:
        return (await scrape(janitor))[("janitor_deletions", "overdue")] == 1

    await wait_until(overdue, timeout=30, what="the unanswered deletion to be counted overdue")

    await janitor.ack(command)
    await janitor.wait_for_completion(command.data.deletion_id)
    shown = await scrape(janitor)
    assert shown[("janitor_deletions", "complete")] == 1
    assert shown[("janitor_deletions", "pending")] == 0
    assert shown[("janitor_deletions", "overdue")] == 0
    assert shown[("janitor_deletions", "cancelled")] == 0


async def test_a_scheduled_sweep_is_counted_by_its_outcome(start_janitor: StartJanitor) -> None:
    janitor = await start_janitor(sweep_interval="PT0.2S")

    async def swept() -> bool:
        return (await scrape(janitor))[("janitor_sweeps_total", "issued")] >= 1

    await wait_until(swept, timeout=30, what="a scheduled sweep to be counted")
