import base64
from pathlib import Path

import pytest

from codeflow_infra.config import ConfigError, find_repo_root, kafka_listeners
from codeflow_infra.kafka_broker import new_cluster_id, render_server_properties


def properties(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def template() -> str:
    root = find_repo_root()
    assert root is not None
    return (root / "deploy" / "kafka" / "server.properties.template").read_text()


def test_rendered_server_properties_describe_one_combined_node_on_the_given_ports() -> None:
    rendered = render_server_properties(
        template(), host="127.0.0.1", port=19092, controller_port=19093, log_dir=Path("/data/k")
    )
    values = properties(rendered)

    assert "$" not in rendered
    assert values["process.roles"] == "broker,controller"
    assert values["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert values["advertised.listeners"] == values["listeners"]
    assert values["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert values["log.dirs"] == "/data/k"
    assert values["offsets.topic.replication.factor"] == "1"
    assert values["transaction.state.log.min.isr"] == "1"
    assert values["group.initial.rebalance.delay.ms"] == "0"


def test_cluster_ids_are_random_uuids_in_kafkas_base64_form() -> None:
    ids = {new_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_further_listeners_are_bound_on_their_port_and_advertised_on_their_proxys() -> None:
    rendered = render_server_properties(
        template(),
        host="127.0.0.1",
        port=19092,
        controller_port=19093,
        log_dir=Path("/data/k"),
        listeners=kafka_listeners("AUTH=19101@19201, JANITOR=19104@19204"),
    )
    values = properties(rendered)

    assert values["listeners"] == (
        "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,"
        "AUTH://127.0.0.1:19101,JANITOR://127.0.0.1:19104"
    )
    assert values["advertised.listeners"] == (
        "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,"
        "AUTH://127.0.0.1:19201,JANITOR://127.0.0.1:19204"
    )
    assert values["listener.security.protocol.map"] == (
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,AUTH:PLAINTEXT,JANITOR:PLAINTEXT"
    )


@pytest.mark.parametrize("raw", ["auth=1@2", "AUTH=1", "AUTH=x@2", "PLAINTEXT=1@2", "AUTH:1@2"])
def test_a_further_listener_that_is_not_name_port_at_port_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="KAFKA_EXTRA_LISTENERS"):
        kafka_listeners(raw)
