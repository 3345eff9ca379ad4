from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from messaging_support import ConsumerGroup, activity, count, effects, pending, write_to_outbox

from codeflow_contracts import parse_envelope
from codeflow_testing.kafka import read_topic
from codeflow_testing.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

HERE = Path(__file__).parent


@asynccontextmanager
async def _running(script: str, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``script`` (beside this file) in a process of its own, killed on leaving if it still runs."""
    process = await asyncio.create_subprocess_exec(sys.executable, str(HERE / script), *args)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_a_relay_killed_between_publishing_and_marking_causes_a_duplicate_the_inbox_drops(
    group: ConsumerGroup,
    database_url: str,
    start_relay,
) -> None:
    envelopes = [activity(f"user-{n % 3}", n) for n in range(10)]
    await write_to_outbox(group.sessions, envelopes, topic=group.topic)

    async with _running(
        "relay_process.py",
        f"--database-url={database_url}",
        f"--bootstrap-servers={group.bootstrap_servers}",
        "--die-after-publish",
    ) as doomed:
        assert await asyncio.wait_for(doomed.wait(), timeout=60) == -signal.SIGKILL
    # Kafka has the messages, the outbox doesn't know: they will be published again.
    assert len(await read_topic(group.bootstrap_servers, group.topic)) == len(envelopes)
    assert await pending(group.sessions) == 10

    start_relay()
    await group.start()

    async def duplicates_published_and_consumed() -> bool:
        return len(await read_topic(group.bootstrap_servers, group.topic)) == 2 * len(
            envelopes
        ) and (await group.lag() == 0)

    await wait_until(
        duplicates_published_and_consumed, timeout=90, what="both copies to be consumed"
    )
    delivered = Counter(
        parse_envelope(r.value).id for r in await read_topic(group.bootstrap_servers, group.topic)
    )
    assert set(delivered.values()) == {2}
    applied = [message_id for message_id, _, _ in await effects(group.sessions)]
    assert sorted(applied) == sorted(str(e.id) for e in envelopes)


async def test_a_consumer_killed_mid_batch_handles_every_message_after_it_restarts(
    group: ConsumerGroup,
    database_url: str,
    start_relay,
) -> None:
    envelopes = [activity(f"user-{n % 7}", n) for n in range(300)]
    await write_to_outbox(group.sessions, envelopes, topic=group.topic)
    start_relay()
    consumer_args = (
        f"--database-url={database_url}",
        f"--bootstrap-servers={group.bootstrap_servers}",
        f"--topic={group.topic}",
        f"--group-id={group.group_id}",
    )

    async with _running("consumer_process.py", *consumer_args, "--delay=0.02") as first:

        async def some_handled() -> bool:
            return await count(group.sessions, "SELECT count(*) FROM effects") >= 40

        await wait_until(some_handled, timeout=90, what="the first consumer to handle 40")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    handled_before_restart = await count(group.sessions, "SELECT count(*) FROM effects")
    assert handled_before_restart < len(envelopes), "the consumer finished before it was killed"

    async with _running("consumer_process.py", *consumer_args):

        async def all_handled() -> bool:
            return await group.lag() == 0 and (
                await count(group.sessions, "SELECT count(*) FROM effects") >= len(envelopes)
            )

        await wait_until(all_handled, timeout=120, what="the restarted consumer to catch up")

    applied = Counter(message_id for message_id, _, _ in await effects(group.sessions))
    assert set(applied) == {str(e.id) for e in envelopes}
    assert set(applied.values()) == {1}, "a message took effect twice"
