"""B7: how long an event takes from auth's commit until profiles shows it, at idle and under
B1's load, beside a raw produce → consume round trip on the same Kafka.

The path timed is a GitHub rename. The stand-in's admin route gives one user a new login;
the user signs in again, and auth's callback commits the new login together with a
``UserUpdated`` in its outbox (the relay, woken by NOTIFY, publishes it); profiles' consumer
applies it, and ``GET /profiles/me`` (profiles' own port, the user's token) shows the new
``username``. It is the path with the least noise of its own: one user, one row on each
side, one event, and a read that asks only for that row. The clock starts when auth's
callback answers, which is after the commit, so each sample is an upper bound; profiles is
polled every ``POLL_INTERVAL`` seconds, which adds up to one poll's round trip.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from aiokafka import TopicPartition

from codeflow_bench import load
from codeflow_bench.events import delete_topics
from codeflow_bench.plan import Plan
from codeflow_bench.results import Comparison, Run
from codeflow_bench.signin import SESSION_COOKIE, Session, add_github_users, jwt_for, sign_in
from codeflow_bench.stats import HttpResult, latency_summary
from codeflow_bench.target import Target
from codeflow_infra.kafka import create_topics
from codeflow_messaging import create_producer
from codeflow_messaging.kafka import create_consumer, send_batches

logger = logging.getLogger("codeflow.bench")

B7_GITHUB_ID = 8_700_000_000
POLL_INTERVAL = 0.002
TOKEN_LIFETIME = 240.0  # /auth/verify's JWTs live 5 minutes; a new one well before that
RAW = "raw produce → consume"
IDLE_GAP = 0.1
"""How long the raw baseline waits before each of its spaced samples. B7's events come one
at a time to a path that idled since the last (a sign-in apart); on this machine a round
trip after such a pause took 3-9 ms at the median against 1-2 ms back to back, the same
produce and fetch woken from idle."""
RAW_AFTER_IDLE = f"{RAW}, each after {IDLE_GAP:g} s idle"

Sample = Callable[[], Awaitable[float | None]]


class Renames:
    """Renames one GitHub user again and again; each call times one rename into profiles."""

    def __init__(self, target: Target, plan: Plan, client: httpx.AsyncClient) -> None:
        self.target = target
        self.plan = plan
        self.client = client
        self.tag = uuid.uuid4().hex[:8]
        self.count = 0
        self.token = ""
        self.token_at = 0.0
        self.session: Session | None = None

    async def __call__(self) -> float | None:
        self.count += 1
        login = f"bench-b7-{self.tag}-{self.count}"
        renamed = await self.client.post(
            f"{self.target.emulator_url}/_emulator/users", json={"id": B7_GITHUB_ID, "login": login}
        )
        renamed.raise_for_status()
        if self.session is not None and time.perf_counter() - self.token_at > TOKEN_LIFETIME:
            await self.refresh_token(self.session)
        self.session = await sign_in(self.target, login)
        if not self.token:
            await self.refresh_token(self.session)
        profile = f"{self.target.service_urls['profiles']}/profiles/me"
        headers = {"Authorization": f"Bearer {self.token}"}
        deadline = self.session.committed_at + self.plan.b7_timeout
        while time.perf_counter() < deadline:
            response = await self.client.get(profile, headers=headers)
            if response.status_code == 200 and response.json().get("username") == login:
                return (time.perf_counter() - self.session.committed_at) * 1000
            await asyncio.sleep(POLL_INTERVAL)
        return None

    async def refresh_token(self, session: Session) -> None:
        self.token = await jwt_for(self.target, session, "profiles")
        self.token_at = time.perf_counter()


async def take(
    sample: Sample, count: int, *, until: asyncio.Future[Any] | None = None
) -> dict[str, float | int]:
    """``count`` samples one at a time (fewer if ``until`` finishes first), after one
    unrecorded warm-up; their summary."""
    await sample()
    taken: list[float] = []
    timeouts = 0
    while len(taken) + timeouts < count and (until is None or not until.done()):
        ms = await sample()
        if ms is None:
            timeouts += 1
        else:
            taken.append(ms)
    return latency_summary(taken, timeouts=timeouts)


async def raw_round_trips(
    bootstrap: str, count: int, timeout: float, *, gap: float = 0.0
) -> dict[str, float | int]:
    """The baseline: a producer with the services' options (acks=all, idempotent) sends one
    record to a fresh topic as the relay does (a record batch of its own, sent at once, with
    no linger); a consumer assigned to its partitions (no group) receives it; one at a
    time, each ``gap`` seconds after the last (untimed)."""
    topic = f"bench.b7-raw.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], 1)
    producer = create_producer(bootstrap, client_id="codeflow-bench-b7")
    consumer = create_consumer(bootstrap, auto_offset_reset="latest")
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_end()

        async def round_trip() -> float | None:
            await asyncio.sleep(gap)
            value = uuid.uuid4().bytes
            began = time.perf_counter()
            record = (0, topic, b"bench-b7", value, False, None)
            batches, failed = await send_batches(producer, [record])
            if failed:
                raise failed[0]
            [sent] = batches
            try:
                async with asyncio.timeout(timeout):
                    while (await consumer.getone()).value != value:
                        pass
            except TimeoutError:
                return None
            finally:
                await sent.delivered
            return (time.perf_counter() - began) * 1000

        return await take(round_trip, count)
    finally:
        await consumer.stop()
        await producer.stop()
        await delete_topics(bootstrap, [topic])


async def run_b7(target: Target, plan: Plan, run: Run, results_dir: Path) -> None:
    await add_github_users(target, "bench-b7", 1, B7_GITHUB_ID)
    series: dict[str, dict[str, float | int]] = {}
    run.series["B7"] = series
    async with httpx.AsyncClient(timeout=30) as client:
        renames = Renames(target, plan, client)
        series["at idle"] = await take(renames, plan.b7_samples)
        series[RAW] = await raw_round_trips(
            target.bootstrap_servers, plan.b7_samples, plan.b7_timeout
        )
        series[RAW_AFTER_IDLE] = await raw_round_trips(
            target.bootstrap_servers, plan.b7_samples, plan.b7_timeout, gap=IDLE_GAP
        )
        if renames.session is None:
            raise RuntimeError("B7: no sign-in")
        cookies = [f"Cookie: {SESSION_COOKIE}={renames.session.cookie}"]
        logger.info(
            "B7: under B1's load (gateway, concurrency %d, %.0f s at most)",
            plan.b7_load_concurrency,
            plan.b7_load_seconds,
        )
        loaded: asyncio.Future[HttpResult] = asyncio.ensure_future(
            asyncio.to_thread(
                load.wrk,
                f"{target.gateway_url}/api/repositories",
                cookies,
                connections=plan.b7_load_concurrency,
                seconds=plan.b7_load_seconds,
            )
        )
        await asyncio.sleep(1)  # the load running before the first sample
        began = time.perf_counter()
        series["under B1"] = await take(renames, plan.b7_samples, until=loaded)
        logger.info("B7: samples under load took %.1f s", time.perf_counter() - began)
        wrk = await loaded
    for case, summary in series.items():
        run.figures[f"B7 {case} p50 / p99 (ms)"] = (
            f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f}"
        )
        if summary["timeouts"]:
            run.notes.append(
                f"B7 {case}: {summary['timeouts']} of {plan.b7_samples} samples took over "
                f"{plan.b7_timeout:.0f} s and are left out of the percentiles."
            )
    load_name = f"B7 load beside the samples (gateway c={plan.b7_load_concurrency}) req/s"
    run.figures[load_name] = round(wrk.rps, 1)
    if not wrk.ok:
        run.notes.append(
            f"B7's load: {wrk.errors} socket errors and {wrk.non_2xx} responses other than "
            f"2xx/3xx in {wrk.requests:,} requests."
        )
    for case in ("at idle", "under B1"):
        for metric in ("p50", "p99"):
            run.compare(
                Comparison(
                    "B7",
                    f"auth commit → profiles shows it, {case}",
                    f"{metric} latency",
                    "ms",
                    series[case][f"{metric}_ms"],
                    RAW_AFTER_IDLE,
                    series[RAW_AFTER_IDLE][f"{metric}_ms"],
                    higher_is_better=False,
                )
            )
