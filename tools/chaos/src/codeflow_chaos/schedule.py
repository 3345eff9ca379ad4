"""The faults of a run, planned from its seed before anything starts.

Faults run in lanes, each lane one fault at a time (a gap, the fault, its repair), the lanes
side by side: two lanes of process faults (a replica killed or paused), one of server
restarts (PostgreSQL, Kafka) and two of network faults (latency, a cut, a slow close on the
proxy between a service and PostgreSQL or Kafka). Every lane holds the same number of each
of its kinds, shuffled; every choice (target, how long, how hard, the gap before) comes from
the seed, so one seed gives one plan. A lane spreads its faults over the run in equal
slots; a fault whose slot comes while the one before is still being repaired (a broker
restart takes as long as it takes) starts as soon as that one ends.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from codeflow_chaos.fault_log import FaultKind
from codeflow_infra.cluster_config import SERVICES

PAUSE_SECONDS = (13.0, 18.0)
"""A pause outlasts the consumers' session timeout (10 s): the group rebalances without the
paused replica, and again when it comes back."""


@dataclass(frozen=True)
class PlannedFault:
    lane: str
    kind: FaultKind
    target: str
    """A replica (``auth-2``), a server (``postgres``, ``kafka``) or a proxy (``pg-auth``)."""
    gap: float
    """Seconds into its slot of the run that this fault starts (a lane spreads its faults
    over the run in equal slots)."""
    hold: float
    """Seconds the fault lasts before it is repaired."""
    params: dict[str, float] = field(default_factory=dict)
    """Of network faults: the toxic's attributes. Of a kill: ``mid_round`` 1 to kill the
    replica while its service's outbox relay has rows in flight."""


@dataclass(frozen=True)
class Plan:
    seed: int
    lanes: dict[str, list[PlannedFault]]

    def faults(self) -> list[PlannedFault]:
        return [fault for lane in self.lanes.values() for fault in lane]


def replica_names(replicas: int) -> list[str]:
    return [
        service if n == 1 else f"{service}-{n}"
        for service in SERVICES
        for n in range(1, replicas + 1)
    ]


def proxy_names() -> list[str]:
    return [f"{prefix}-{service}" for service in SERVICES for prefix in ("pg", "kafka")]


def plan(seed: int, *, per_kind: int, replicas: int, gap: tuple[float, float]) -> Plan:
    """``per_kind`` faults of every kind, spread over the lanes, from ``seed``."""
    rng = random.Random(seed)
    targets = replica_names(replicas)
    proxies = proxy_names()

    def process_fault(kind: FaultKind, lane: str) -> PlannedFault:
        target = rng.choice(targets)
        if kind == "pause":
            return PlannedFault(lane, kind, target, rng.uniform(*gap), rng.uniform(*PAUSE_SECONDS))
        return PlannedFault(
            lane,
            kind,
            target,
            rng.uniform(*gap),
            rng.uniform(0.2, 3.0),
            {"mid_round": float(rng.random() < 0.5)},
        )

    def server_fault(kind: FaultKind) -> PlannedFault:
        target = "postgres" if kind == "postgres-restart" else "kafka"
        # Kafka's own start takes seconds more (a JVM, then the log's recovery).
        down = (0.5, 2.5) if target == "postgres" else (0.2, 1.5)
        return PlannedFault("servers", kind, target, rng.uniform(*gap), rng.uniform(*down))

    def network_fault(kind: FaultKind, lane: str) -> PlannedFault:
        params: dict[str, float] = {}
        if kind == "latency":
            params = {"latency": float(rng.randrange(200, 1500)), "jitter": 100.0}
        elif kind == "slow-close":
            params = {"delay": float(rng.randrange(500, 3000))}
        return PlannedFault(
            lane, kind, rng.choice(proxies), rng.uniform(*gap), rng.uniform(1.5, 5.0), params
        )

    process_kinds = _shuffled(rng, ["kill", "pause"], per_kind)
    lanes: dict[str, list[PlannedFault]] = {"processes-1": [], "processes-2": []}
    for i, kind in enumerate(process_kinds):
        lane = f"processes-{i % 2 + 1}"
        lanes[lane].append(process_fault(kind, lane))
    lanes["servers"] = [
        server_fault(kind)
        for kind in _shuffled(rng, ["postgres-restart", "kafka-restart"], per_kind)
    ]
    network_kinds = _shuffled(rng, ["latency", "cut", "slow-close"], per_kind)
    for i, kind in enumerate(network_kinds):
        lane = f"network-{i % 2 + 1}"
        lanes.setdefault(lane, []).append(network_fault(kind, lane))
    return Plan(seed, lanes)


def _shuffled(rng: random.Random, kinds: Sequence[FaultKind], per_kind: int) -> list[FaultKind]:
    order = [kind for kind in kinds for _ in range(per_kind)]
    rng.shuffle(order)
    return order
