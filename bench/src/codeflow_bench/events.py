"""B3 (event ingestion by the profiles consumer) and B4 (the outbox relay), each beside a raw
aiokafka + asyncpg baseline doing the same work.

Both use topics of their own (``bench.*``, deleted afterwards) and consumer groups of their
own, so the cluster's real consumers never see the benchmark's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from codeflow_bench import profiling
from codeflow_bench.batched_baseline import (
    consume_batched,
    cpu_per_event_us,
    end_state_differences,
    latest_activity,
)
from codeflow_bench.database import connected
from codeflow_bench.plan import Plan
from codeflow_bench.results import Comparison, Run
from codeflow_bench.target import Target
from codeflow_contracts import UserActive, new_envelope, to_json_bytes
from codeflow_infra.kafka import create_topics
from codeflow_infra.postgres import create_database
from codeflow_messaging import (
    OutboxRelay,
    create_broker,
    create_engine,
    create_producer,
    create_session_factory,
)
from codeflow_messaging.kafka import CONTENT_TYPE, create_admin
from codeflow_messaging.relay import DEFAULT_BATCH_SIZE
from codeflow_messaging.tables import add_messaging_tables
from codeflow_profiles.consumers import consumers as profiles_consumers

logger = logging.getLogger("codeflow.bench")

B3_PREFIX = "bench-b3-"
B3_GITHUB_ID_BASE = 8_300_000_000
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
SEND_BATCH = 500


async def delete_topics(bootstrap: str, topics: list[str]) -> None:
    admin = create_admin(bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    except Exception as error:  # leftovers are harmless; say so and go on
        logger.warning("could not delete %s: %s", topics, error)
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """Publish fast (acks=all, pipelined in batches); only to fill a backlog."""
    producer = create_producer(bootstrap, client_id="codeflow-bench")
    await producer.start()
    try:
        for start in range(0, len(records), SEND_BATCH):
            futures = [
                await producer.send(topic, value, key=key)
                for key, value in records[start : start + SEND_BATCH]
            ]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def committed_offsets(
    bootstrap: str, group: str
) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """A reading of how many records ``group`` has committed, over one admin connection for
    the length of the block (not one per reading)."""
    admin = create_admin(bootstrap)
    await admin.start()

    async def committed() -> int:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(max(0, meta.offset) for meta in offsets.values())

    try:
        yield committed
    finally:
        await admin.close()


async def wait_for(
    progress: Callable[[], Awaitable[int]], total: int, timeout: float, interval: float = 0.25
) -> tuple[int, float]:
    """Poll ``progress()`` until it reaches ``total`` or ``timeout``; (done, seconds)."""
    began = time.perf_counter()
    done = 0
    while True:
        done = await progress()
        elapsed = time.perf_counter() - began
        if done >= total or elapsed > timeout:
            return done, elapsed
        await asyncio.sleep(interval)


# --- B3 ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """For the length of the block, what this process holds now is out of the garbage
    collector's sight, as a service's start-up objects are (``settle_the_heap``): B3's
    consumers run here as the service runs them, and each full collection doesn't walk the
    benchmark's own objects (the backlog's records among them) again. Both consumers run
    inside it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _keep_own_profile(
    run: Run,
    recording: subprocess.Popen[bytes] | None,
    raw_path: Path,
    *,
    what: str,
    target: str,
    why: str,
) -> None:
    """Summarise the recording of the benchmark's own process, if one was started, into ``run``."""
    if recording is not None:
        run.profiles.append(
            await asyncio.to_thread(
                profiling.finish_recording, recording, raw_path, what=what, target=target, why=why
            )
        )


async def seed_profiles(url: str, users: int) -> None:
    async with connected(url) as connection:
        await connection.execute("DELETE FROM user_profiles WHERE user_id LIKE $1", f"{B3_PREFIX}%")
        await connection.execute(
            """
            INSERT INTO user_profiles (id, user_id, github_id, username, last_active_at,
                                       identity_updated_at, created_at, updated_at)
            SELECT gen_random_uuid(), $1 || u, $2::bigint + u, $1 || u, $3, $3, $3, $3
            FROM generate_series(1, $4::int) AS u
            """,
            B3_PREFIX,
            B3_GITHUB_ID_BASE,
            LONG_AGO,
            users,
        )
        await connection.execute("VACUUM ANALYZE user_profiles")


async def rewind_profiles(url: str) -> None:
    """Back to long ago, so the next consumer's updates change rows as the first one's did,
    in a table as freshly vacuumed as the first one found it."""
    async with connected(url) as connection:
        await connection.execute(
            "UPDATE user_profiles SET last_active_at = $2 WHERE user_id LIKE $1",
            f"{B3_PREFIX}%",
            LONG_AGO,
        )
        await connection.execute("VACUUM ANALYZE user_profiles")


def user_active_records(events: int, users: int) -> list[tuple[bytes, bytes]]:
    """``UserActive`` envelopes round-robin over the seeded users, each later than the last."""
    base = datetime.now(UTC) - timedelta(days=1)
    records = []
    for i in range(events):
        envelope = new_envelope(
            UserActive(
                user_id=f"{B3_PREFIX}{i % users + 1}", active_at=base + timedelta(milliseconds=i)
            ),
            source="codeflow/auth",
        )
        records.append((envelope.kafka_key, to_json_bytes(envelope)))
    return records


async def last_active_by_user(url: str) -> dict[str, datetime]:
    """The seeded profiles' ``last_active_at``, by user id: the end state both consumers must
    leave."""
    async with connected(url) as connection:
        rows = await connection.fetch(
            "SELECT user_id, last_active_at FROM user_profiles WHERE user_id LIKE $1",
            f"{B3_PREFIX}%",
        )
    return {row["user_id"]: row["last_active_at"] for row in rows}


async def check_end_state(url: str, expected: dict[str, datetime], consumer: str) -> None:
    """Fail the step unless ``consumer`` left each user's latest activity in the profiles."""
    wrong = end_state_differences(expected, await last_active_by_user(url))
    if wrong:
        raise AssertionError(
            f"B3: after {consumer}, {len(wrong):,} of {len(expected):,} users' last_active_at "
            f"is not their latest activity (e.g. {', '.join(wrong[:3])})"
        )


async def drain(
    plan: Plan,
    run: Run,
    results_dir: Path,
    *,
    bootstrap: str,
    group: str,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    name: str,
    consumer: str,
) -> tuple[int, float]:
    """Start a consumer, wait until its group's committed offsets cover the backlog (or the
    bound passes), stop it; (events committed, seconds). Both B3 consumers are timed, and
    profiled while they drain, by this same code, in a settled heap (:func:`settled_heap`),
    which also notes the CPU this process spent per event: unlike the rate, that hardly moves
    with what else the machine runs."""
    what = f"B3, {consumer} draining the backlog"
    raw_path = profiling.profile_dir(results_dir) / f"{name}.txt"
    raw_path.unlink(missing_ok=True)
    recording = None
    async with committed_offsets(bootstrap, group) as committed:
        with settled_heap():
            began = time.perf_counter()
            cpu_began = time.process_time()
            try:
                await start()
                if plan.profile_seconds > 0:
                    # Sampling this process while it drains: py-spy doesn't pause it
                    # (--nonblocking).
                    recording = profiling.start_recording(
                        os.getpid(), plan.profile_seconds, raw_path
                    )
                done, _ = await wait_for(committed, plan.b3_events, plan.b3_timeout, interval=0.1)
                elapsed = time.perf_counter() - began
                cpu = time.process_time() - cpu_began
            finally:
                await stop()
    per_event = cpu_per_event_us(cpu, done)
    if per_event is not None:
        run.figures[f"B3 CPU per event, {consumer} (µs)"] = round(per_event, 1)
    await _keep_own_profile(
        run,
        recording,
        raw_path,
        what=what,
        target="the benchmark's own process (the consumer runs in it)",
        why="Each consumer applies a batch of events per transaction.",
    )
    if done < plan.b3_events:
        run.notes.append(
            f"B3: {consumer} applied {done:,} of {plan.b3_events:,} events within the "
            f"{plan.b3_timeout:.0f} s bound; the rate is over what it applied."
        )
    return done, elapsed


async def run_b3(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    bootstrap = target.bootstrap_servers
    url = target.database_url("profiles")
    users = min(plan.users, plan.b3_events)
    topic = f"bench.user-events.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], 3)
    try:
        await seed_profiles(url, users)
        logger.info("B3: publishing a backlog of %d UserActive events", plan.b3_events)
        records = user_active_records(plan.b3_events, users)
        expected = latest_activity(value for _, value in records)
        await produce(bootstrap, topic, records)

        group = f"bench-profiles-{uuid.uuid4().hex[:8]}"
        engine = create_engine(url, pool_size=10, max_overflow=10)
        sessions = create_session_factory(engine)
        service_consumers = profiles_consumers(sessions, group, topics=[topic])
        max_batch = service_consumers[0].max_batch

        raw_group = f"bench-raw-{uuid.uuid4().hex[:8]}"
        raw_task: asyncio.Task[None] | None = None

        async def start_raw() -> None:
            nonlocal raw_task
            raw_task = asyncio.create_task(
                consume_batched(
                    bootstrap,
                    topic,
                    url,
                    group_id=raw_group,
                    max_batch=max_batch,
                    commit_every=service_consumers[0].commit_every,
                )
            )

        async def stop_raw() -> None:
            if raw_task is not None:
                raw_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await raw_task

        raw_done, raw_seconds = await drain(
            plan,
            run,
            results_dir,
            bootstrap=bootstrap,
            group=raw_group,
            start=start_raw,
            stop=stop_raw,
            name="b3-raw-consumer",
            consumer="the batching raw consumer",
        )
        if raw_done == plan.b3_events:
            await check_end_state(url, expected, "the raw consumer")
        await rewind_profiles(url)

        broker = create_broker(bootstrap, client_id=group)
        for consumer in service_consumers:
            consumer.subscribe(broker)
        try:
            done, elapsed = await drain(
                plan,
                run,
                results_dir,
                bootstrap=bootstrap,
                group=group,
                start=broker.start,
                stop=broker.stop,
                name="b3-profiles-consumer",
                consumer="the profiles consumer",
            )
        finally:
            await engine.dispose()
        run.compare(
            Comparison(
                "B3",
                f"profiles consumer, {plan.b3_events:,} UserActive",
                "ingestion",
                "events/s",
                done / elapsed if elapsed else 0.0,
                f"raw aiokafka + asyncpg, batches of {max_batch}",
                raw_done / raw_seconds if raw_seconds else 0.0,
            )
        )
        if done == plan.b3_events:
            await check_end_state(url, expected, "the profiles consumer")
        # Clean the consumer's inbox rows: they belong to the benchmark's group only.
        async with connected(url) as connection:
            await connection.execute("DELETE FROM processed_events WHERE consumer = $1", group)
    finally:
        await delete_topics(bootstrap, [topic])


# --- B4 ---------------------------------------------------------------------------------------

BENCH_DATABASE = "codeflow_bench"


async def prepare_outbox(target: Target) -> str:
    url = await create_database(target.maintenance_url, BENCH_DATABASE)
    engine = create_engine(url)
    metadata = MetaData()
    add_messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    await engine.dispose()
    return target.database_url_named(BENCH_DATABASE)


async def fill_outbox(url: str, topic: str, messages: int) -> None:
    sample = json.loads(
        to_json_bytes(
            new_envelope(
                UserActive(user_id="bench-b4-0", active_at=datetime.now(UTC)),
                source="codeflow/auth",
            )
        )
    )
    async with connected(url) as connection:
        await connection.execute("TRUNCATE outbox")
        await connection.execute(
            """
            INSERT INTO outbox (message_id, topic, key, message_type, payload)
            SELECT gen_random_uuid(), $1, 'bench-b4-' || (g % 10000),
                   'codeflow.user.active.v1',
                   jsonb_set(
                       jsonb_set($2::jsonb, '{subject}', to_jsonb('bench-b4-' || (g % 10000))),
                       '{id}', to_jsonb(gen_random_uuid()::text))
            FROM generate_series(1, $3::int) AS g
            """,
            topic,
            json.dumps(sample),
            messages,
        )
        await connection.execute("ANALYZE outbox")


async def pending(url: str) -> int:
    async with connected(url) as connection:
        return int(
            await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )


async def raw_publish(bootstrap: str, url: str, topic: str) -> tuple[int, float]:
    """The baseline: the same rows' messages through a raw idempotent ``acks=all`` producer,
    in batches of the relay's size, awaiting every acknowledgement; (messages, seconds)."""
    async with connected(url) as connection:
        rows = await connection.fetch(
            "SELECT key, payload::text AS payload FROM outbox ORDER BY id"
        )
    messages = [(row["key"].encode(), row["payload"].encode()) for row in rows]
    headers = [("content-type", CONTENT_TYPE.encode())]
    producer = create_producer(bootstrap, client_id="codeflow-bench")
    await producer.start()
    try:
        began = time.perf_counter()
        for start in range(0, len(messages), DEFAULT_BATCH_SIZE):
            futures = [
                await producer.send(topic, value, key=key, headers=headers)
                for key, value in messages[start : start + DEFAULT_BATCH_SIZE]
            ]
            await asyncio.gather(*futures)
        elapsed = time.perf_counter() - began
    finally:
        await producer.stop()
    return len(messages), elapsed


async def run_b4(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    bootstrap = target.bootstrap_servers
    raw_topic = f"bench.outbox-raw.{uuid.uuid4().hex[:8]}"
    relay_topic = f"bench.outbox-relay.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [raw_topic, relay_topic], 3)
    try:
        url = await prepare_outbox(target)
        await fill_outbox(url, relay_topic, plan.b4_messages)
        sent, raw_seconds = await raw_publish(bootstrap, url, raw_topic)
        raw_rate = sent / raw_seconds if raw_seconds else 0.0

        engine = create_engine(url, pool_size=2, max_overflow=0)
        sessions = create_session_factory(engine)
        relay = OutboxRelay(
            sessions, lambda: create_producer(bootstrap, client_id="codeflow-bench-relay")
        )
        raw_path = profiling.profile_dir(results_dir) / "b4-outbox-relay.txt"
        raw_path.unlink(missing_ok=True)
        began = time.perf_counter()
        task = asyncio.create_task(relay.run())
        recording = (
            profiling.start_recording(os.getpid(), plan.profile_seconds, raw_path)
            if plan.profile_seconds > 0
            else None
        )
        try:

            async def published() -> int:
                return plan.b4_messages - await pending(url)

            done, _ = await wait_for(published, plan.b4_messages, plan.b4_timeout, interval=0.1)
            elapsed = time.perf_counter() - began
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await engine.dispose()
        await _keep_own_profile(
            run,
            recording,
            raw_path,
            what="B4, the outbox relay publishing",
            target="the benchmark's own process (the relay runs in it)",
            why="The relay claims, publishes and marks each batch in turn.",
        )
        if done < plan.b4_messages:
            run.notes.append(
                f"B4: the relay published {done:,} of {plan.b4_messages:,} within "
                f"{plan.b4_timeout:.0f} s; the rate is over what it published."
            )
        run.compare(
            Comparison(
                "B4",
                f"outbox relay, {plan.b4_messages:,} messages (acks=all, idempotent)",
                "publish rate",
                "messages/s",
                done / elapsed if elapsed else 0.0,
                "raw aiokafka producer",
                raw_rate,
            )
        )
    finally:
        await delete_topics(bootstrap, [raw_topic, relay_topic])


Json = dict[str, Any]
