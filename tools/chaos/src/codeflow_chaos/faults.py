"""Carrying out the planned faults on the running cluster, and repairing each.

Process faults are signals to a replica's process group: SIGKILL, then a restart after the
hold; SIGSTOP, then SIGCONT. Server faults stop PostgreSQL (a fast shutdown) or the Kafka
broker and start them again. Network faults are Toxiproxy toxics on a proxy between a
service and PostgreSQL or Kafka. Every fault is repaired however its lane ends (cancelled
included), and logged with its start and end.

A replica that exits (killed, or crashed by itself) is started again, with a short pause
between attempts, as Kubernetes restarts a pod: :class:`Supervisor` does that for every
replica no fault currently holds, and logs each exit it did not cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from codeflow_chaos.fault_log import Fault
from codeflow_chaos.schedule import PlannedFault
from codeflow_infra.cluster import Cluster
from codeflow_infra.components import Component, ComponentError
from codeflow_infra.kafka_broker import LocalKafka
from codeflow_infra.postgres_server import LocalPostgres
from codeflow_infra.toxiproxy import Toxiproxy

logger = logging.getLogger("codeflow_chaos")

READY_TIMEOUT = 120.0
UNREACHABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What looking at PostgreSQL meets while it restarts or a proxy cuts it off."""
RESTART_PAUSE = 1.0


class FaultLog:
    """Appends each fault, as it ends, to a JSON-lines file (flushed: a crash keeps it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[Fault] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def add(self, record: Fault) -> None:
        self.records.append(record)
        with self.path.open("a") as out:
            out.write(record.to_json() + "\n")
        logger.info("fault %s on %s: %s", record.kind, record.target, record.note or "done")


def _now() -> datetime:
    return datetime.now(UTC)


class Injector:
    """Knows the cluster's replicas, servers and proxies, and how to break and repair each."""

    def __init__(
        self,
        cluster: Cluster,
        toxiproxy: Toxiproxy,
        log: FaultLog,
        database_url: Callable[[str], str],
        stop: asyncio.Event,
        proxies: Collection[str],
    ) -> None:
        self.cluster = cluster
        self.stop = stop
        """Once set, every fault's hold ends at once (and the fault is repaired)."""
        self.toxiproxy = toxiproxy
        self.log = log
        self.database_url = database_url
        self.replicas = replicas_of(cluster)
        self.held: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in self.replicas}
        """Held by whoever has a replica in hand (a fault, or the supervisor restarting it):
        one at a time, so no two start it at once."""
        self.server_lock = asyncio.Lock()
        self.proxy_locks = {proxy: asyncio.Lock() for proxy in proxies}
        """One network fault per proxy at a time."""

    async def inject(self, fault: PlannedFault) -> None:
        """Carry out ``fault``, hold it, repair it, and log it."""
        started = _now()
        try:
            note = await self._carry_out(fault)
        except Exception as error:
            note = f"FAILED: {type(error).__name__}: {error}"
            logger.exception("fault %s on %s failed", fault.kind, fault.target)
        self.log.add(Fault(fault.kind, fault.target, started, _now(), note))

    async def _hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)

    async def _carry_out(self, fault: PlannedFault) -> str:
        if fault.kind == "kill":
            return await self._kill(fault)
        if fault.kind == "pause":
            return await self._pause(fault)
        if fault.kind in ("postgres-restart", "kafka-restart"):
            return await self._restart_server(fault)
        return await self._network(fault)

    async def _kill(self, fault: PlannedFault) -> str:
        replica = self.replicas[fault.target]
        note = ""
        if fault.params.get("mid_round"):
            note = await self._wait_for_relay_round(replica.marker.removeprefix("codeflow_"))
        async with self.held[replica.name]:
            try:
                pid = replica.pid()
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                await self._hold(fault.hold)
            finally:
                # Started again, not waited for: a replica that can't start yet (Kafka down,
                # say) exits, and the supervisor starts it again, as Kubernetes would.
                await asyncio.to_thread(replica.start)
        return ", ".join(filter(None, [note, f"down {fault.hold:.1f} s, started again"]))

    async def _wait_for_relay_round(self, service: str, timeout: float = 10.0) -> str:
        """Wait (bounded) until one of ``service``'s relays holds a round's transaction open;
        say whether it did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            connection = await asyncpg.connect(self.database_url(service))
        except UNREACHABLE as error:
            return f"could not look for a relay round ({error})"
        try:
            while loop.time() < deadline:
                open_rounds = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND query ILIKE '%outbox%'"
                )
                if open_rounds:
                    return f"mid-round ({open_rounds} relay round(s) in flight)"
                await asyncio.sleep(0.02)
        except UNREACHABLE as error:
            return f"could not look for a relay round ({error})"
        finally:
            connection.terminate()
        return "no relay round in flight within 10 s"

    async def _pause(self, fault: PlannedFault) -> str:
        replica = self.replicas[fault.target]
        async with self.held[replica.name]:
            pid = replica.pid()
            if pid is None:
                return "not running"
            os.killpg(pid, signal.SIGSTOP)
            try:
                await self._hold(fault.hold)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGCONT)
        return f"paused {fault.hold:.1f} s"

    async def _restart_server(self, fault: PlannedFault) -> str:
        infra = self.cluster.config.infra
        server: LocalPostgres | LocalKafka = (
            LocalPostgres(infra) if fault.kind == "postgres-restart" else LocalKafka(infra)
        )
        async with self.server_lock:
            try:
                await asyncio.to_thread(server.stop)
                await self._hold(fault.hold)
            finally:
                took = await asyncio.to_thread(server.start)
        return f"down {fault.hold:.1f} s, serving {took:.1f} s after its start"

    async def _network(self, fault: PlannedFault) -> str:
        async with self.proxy_locks[fault.target]:
            return await self._network_fault(fault)

    async def _network_fault(self, fault: PlannedFault) -> str:
        proxy = fault.target
        if fault.kind == "cut":
            await self.toxiproxy.cut(proxy)
            try:
                await self._hold(fault.hold)
            finally:
                await self.toxiproxy.restore(proxy)
            return f"cut {fault.hold:.1f} s"
        kind = "latency" if fault.kind == "latency" else "slow_close"
        attributes = {name: int(value) for name, value in fault.params.items()}
        toxic = await self.toxiproxy.add_toxic(proxy, kind, attributes)
        try:
            await self._hold(fault.hold)
        finally:
            await self.toxiproxy.remove_toxic(proxy, toxic)
        described = ", ".join(f"{k} {v} ms" for k, v in sorted(attributes.items()))
        return f"{kind} ({described}) for {fault.hold:.1f} s"


def replicas_of(cluster: Cluster) -> dict[str, Component]:
    """Every replica of every service the cluster runs, by name."""
    return {
        replica.name: replica
        for name in cluster.available_services()
        for replica in cluster.service_replicas(name)
    }


async def restart(replica: Component, timeout: float = READY_TIMEOUT) -> int:
    """Start ``replica`` until it is ready (as a supervisor would); the starts it took."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    starts = 0
    while True:
        starts += 1
        await asyncio.to_thread(replica.start)
        try:
            await asyncio.to_thread(replica.wait_ready, max(1.0, deadline - loop.time()))
            return starts
        except ComponentError:
            if replica.pid() is not None or loop.time() >= deadline:
                raise  # running but not ready in time, or out of time
            logger.warning("%s exited while starting; starting it again", replica.name)
            await asyncio.sleep(RESTART_PAUSE)


class Supervisor:
    """Starts again, every ``interval`` seconds, any replica that exited while no fault held
    it (one that can't start yet exits again and is started again), and logs each exit."""

    def __init__(self, injector: Injector, interval: float = 1.0) -> None:
        self.injector = injector
        self.interval = interval

    async def run(self) -> None:
        """Until the injector's ``stop`` is set (a restart under way is finished)."""
        while not self.injector.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.injector.stop.wait(), timeout=self.interval)
            for name, replica in self.injector.replicas.items():
                held = self.injector.held[name]
                if held.locked() or replica.pid() is not None:
                    continue
                async with held:
                    if replica.pid() is not None:
                        continue
                    noticed = _now()
                    await asyncio.to_thread(replica.start)
                self.injector.log.add(
                    Fault("exit", name, noticed, _now(), "exited by itself; started again")
                )
