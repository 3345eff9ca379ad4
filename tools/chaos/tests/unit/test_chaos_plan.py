"""A run's plan and topology: one seed gives one plan, every kind as often as asked, on
targets that exist; the run's ports are its own and the services reach the servers through
their proxies."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from codeflow_chaos.fault_log import INJECTED
from codeflow_chaos.schedule import plan, proxy_names, replica_names
from codeflow_chaos.topology import Topology
from codeflow_infra.cluster_config import SERVICES


def test_one_seed_gives_one_plan_and_another_seed_another() -> None:
    first = plan(7, per_kind=5, replicas=2, gap=(0.5, 3.0))

    assert first == plan(7, per_kind=5, replicas=2, gap=(0.5, 3.0))
    assert first.faults() != plan(8, per_kind=5, replicas=2, gap=(0.5, 3.0)).faults()


def test_every_kind_is_planned_as_often_as_asked_on_targets_that_exist() -> None:
    faults = plan(1, per_kind=30, replicas=2, gap=(0.5, 3.0)).faults()

    assert Counter(f.kind for f in faults) == dict.fromkeys(INJECTED, 30)
    targets = {f.target for f in faults}
    assert targets <= {*replica_names(2), *proxy_names(), "postgres", "kafka"}
    assert {f.target for f in faults if f.kind in ("kill", "pause")} == set(replica_names(2))
    assert all(13 <= f.hold <= 18 for f in faults if f.kind == "pause")
    assert any(f.params.get("mid_round") for f in faults if f.kind == "kill")


def test_a_lane_holds_one_family_of_faults() -> None:
    lanes = plan(3, per_kind=4, replicas=2, gap=(0.5, 3.0)).lanes

    families = {name: {f.kind for f in faults} for name, faults in lanes.items()}
    assert families["servers"] == {"postgres-restart", "kafka-restart"}
    assert families["processes-1"] | families["processes-2"] == {"kill", "pause"}
    assert families["network-1"] | families["network-2"] == {"latency", "cut", "slow-close"}


def test_the_run_has_ports_of_its_own_and_each_service_goes_through_its_proxies() -> None:
    topology = Topology(Path("/srv/chaos"), replicas=2)
    config = topology.cluster_config({"PATH": "/usr/bin", "DATABASE_URL": "postgresql://elsewhere"})

    ports = [p.listen_port for p in topology.proxies()]
    ports += [topology.kafka_listener_port(s) for s in SERVICES] + [topology.toxiproxy_port]
    ports += [port for s in SERVICES for port in config.replica_ports(s)]
    ports += [
        config.gateway_port,
        config.emulator_port,
        topology.postgres_port,
        topology.kafka_port,
    ]
    assert len(ports) == len(set(ports))
    assert all(26000 <= port < 27000 for port in ports)
    assert config.infra.database_url is None  # the run's own server, not the caller's
    for service in SERVICES:
        env = config.service_env(service, config.replica_ports(service)[1])
        pg, kafka = topology.postgres_proxy(service), topology.kafka_proxy(service)
        assert env["DATABASE_URL"].endswith(f":{pg.listen_port}/codeflow_{service}")
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"127.0.0.1:{kafka.listen_port}"
        assert kafka.upstream == f"127.0.0.1:{topology.kafka_listener_port(service)}"
    listeners = {x.name: (x.port, x.advertised_port) for x in config.infra.kafka_listeners}
    assert listeners["AUTH"] == (
        topology.kafka_listener_port("auth"),
        topology.kafka_proxy("auth").listen_port,
    )
