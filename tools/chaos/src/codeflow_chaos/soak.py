"""One chaos run from start to verdict.

1. A cluster of its own (``.local/chaos``, ports from 26000): PostgreSQL, Kafka with a
   listener per service, Toxiproxy with a proxy per service and server, and every service
   in several replicas behind the gateway. Whatever an earlier run left there goes first.
2. The workload of simulated people, and beside it the planned faults, lane by lane; a
   supervisor starts again any replica that exits by itself.
3. When the workload's time is up, the faults still planned are dropped, every fault is
   repaired, and the janitor's replicas are restarted with their sweeps off: from then on
   nobody is erased for the quiet after the run.
4. A bounded wait for the system to settle, then the checker over the history and what every
   database and dead-letter topic holds, and the report.
5. Everything this run started is stopped and its data deleted, however the run ends; the
   logs stay in ``.local/chaos/logs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from codeflow_chaos.checker import Verdict, Violation, verdicts
from codeflow_chaos.faults import (
    READY_TIMEOUT,
    FaultLog,
    Injector,
    Supervisor,
    replicas_of,
    restart,
)
from codeflow_chaos.history import read_history
from codeflow_chaos.reading import read_state
from codeflow_chaos.schedule import PlannedFault, plan
from codeflow_chaos.settle import settle
from codeflow_chaos.topology import Topology
from codeflow_infra import cluster, launcher, processes, toxiproxy
from codeflow_infra.cluster_config import ClusterConfig
from codeflow_infra.components import Component

logger = logging.getLogger("codeflow_chaos")

REPAIR_TIMEOUT = 300.0
"""Seconds the lanes get to repair their last faults once the workload has ended."""


@dataclass(frozen=True)
class Settings:
    seed: int
    people: int
    duration: float
    """Seconds the workload runs, faults beside it."""
    faults_per_kind: int
    results: Path
    replicas: int = 2
    gap: tuple[float, float] = (0.5, 3.0)
    """Seconds a lane waits before each fault, drawn between these."""
    settle_timeout: float = 180.0
    base_port: int = 26000


@dataclass(frozen=True)
class Outcome:
    settled: bool
    backlog: str
    verdicts: list[Verdict]
    """Every rule's, then whether the system settled."""


async def soak(settings: Settings, repo_root: Path, workload: WorkloadRunner) -> Outcome:
    """Run, check, and clean up; the outcome (the report is written by the caller)."""
    topology = Topology(repo_root / ".local" / "chaos", settings.replicas, settings.base_port)
    config = topology.cluster_config(os.environ)
    await asyncio.to_thread(cluster.discard, config)
    proxy_server = toxiproxy.server(config.infra, topology.toxiproxy_port)
    try:
        return await _run(settings, topology, config, proxy_server, workload)
    finally:
        await asyncio.to_thread(proxy_server.stop)
        # Anything a fault paused must run again to be stopped.
        for replica in replicas_of(cluster.Cluster(config)).values():
            pid = replica.pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGCONT)
        await asyncio.to_thread(cluster.discard, config)
        # A replica no pid file names any more (a bug of the run's own) must not outlive it.
        for pid in processes.pids_referencing(topology.local_dir):
            logger.warning("stopping process %d, left running in %s", pid, topology.local_dir)
            processes.stop_process(pid, signal.SIGKILL, 10)


WorkloadRunner = Callable[[str, str, Path, asyncio.Event], Awaitable[None]]
"""Runs the workload against (gateway URL, emulator URL), writing the history to the path,
until its time is up or the event is set."""


async def _run(
    settings: Settings,
    topology: Topology,
    config: ClusterConfig,
    proxy_server: Component,
    workload: WorkloadRunner,
) -> Outcome:
    started = time.monotonic()
    await asyncio.to_thread(launcher.up, config.infra)
    await asyncio.to_thread(proxy_server.start)
    await asyncio.to_thread(proxy_server.wait_ready, 30)
    async with toxiproxy.Toxiproxy(topology.toxiproxy_port) as proxies:
        for proxy in topology.proxies():
            await proxies.proxy(proxy.name, upstream=proxy.upstream, listen_port=proxy.listen_port)
        the_cluster = await asyncio.to_thread(cluster.up, config)
        logger.info(
            "cluster of %d replicas each up in %.0f s",
            settings.replicas,
            time.monotonic() - started,
        )

        schedule = plan(
            settings.seed,
            per_kind=settings.faults_per_kind,
            replicas=settings.replicas,
            gap=settings.gap,
        )
        log = FaultLog(settings.results / "faults.jsonl")
        stop = asyncio.Event()
        injector = Injector(
            the_cluster,
            proxies,
            log,
            config.database_url,
            stop,
            [proxy.name for proxy in topology.proxies()],
        )
        history = settings.results / "history.jsonl"
        supervisor = asyncio.create_task(Supervisor(injector).run(), name="supervisor")
        begun = asyncio.get_running_loop().time()
        lanes = [
            asyncio.create_task(
                _lane(injector, faults, stop, begun, settings.duration), name=f"lane {name}"
            )
            for name, faults in schedule.lanes.items()
        ]
        try:
            await workload(config.gateway_url, config.emulator_url, history, stop)
        finally:
            # Each lane ends its current fault's hold at once, repairs it, and stops.
            stop.set()
            _, late = await asyncio.wait(lanes, timeout=REPAIR_TIMEOUT)
            for lane in late:
                lane.cancel()
            await asyncio.wait([supervisor], timeout=READY_TIMEOUT)
            supervisor.cancel()
            results = await asyncio.gather(*lanes, supervisor, return_exceptions=True)
            await proxies.reset()
        failed = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        ]
        if failed:
            raise failed[0]
        # Repair anything still down (a lane cut short may have left it so), then no more
        # sweeps: the quiet after the run is not inactivity.
        await asyncio.to_thread(launcher.up, config.infra)
        for replica in injector.replicas.values():
            if replica.pid() is None:
                await restart(replica)
        await _restart_janitor_without_sweeps(config)

    settled, backlog = await settle(
        config.database_url, config.infra.bootstrap_servers, timeout=settings.settle_timeout
    )
    logger.info("settled: %s (%s)", settled, backlog)
    state = await read_state(config.database_url, config.infra.bootstrap_servers)
    operations = sorted(read_history(history), key=lambda op: op.seq)
    found = verdicts(operations, state)
    unsettled = Violation(
        "settled",
        f"the system did not settle within {settings.settle_timeout:.0f} s: {backlog}",
    )
    found.append(Verdict("settled", () if settled else (unsettled,)))
    return Outcome(settled, str(backlog), found)


async def _lane(
    injector: Injector,
    faults: list[PlannedFault],
    stop: asyncio.Event,
    begun: float,
    duration: float,
) -> None:
    """Inject ``faults`` one after another, spread over ``duration``: fault i starts its gap
    into the i-th of as many equal slots (or as soon as the one before it ended, if late)."""
    loop = asyncio.get_running_loop()
    slot = duration / max(1, len(faults))
    for i, fault in enumerate(faults):
        wait = begun + i * slot + fault.gap - loop.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, wait))
        if stop.is_set():
            return
        await injector.inject(fault)


async def _restart_janitor_without_sweeps(config: ClusterConfig) -> None:
    overrides = dict(config.service_overrides)
    overrides["janitor"] = {**overrides.get("janitor", {}), "JANITOR_SWEEP_INTERVAL": "0"}
    quiet = cluster.Cluster(replace(config, service_overrides=overrides))
    for replica in quiet.service_replicas("janitor"):
        await asyncio.to_thread(replica.stop)
        await restart(replica)


def results_dir(root: Path, seed: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{stamp}-seed-{seed}"
