"""Kafka security as deployed: the ACL table agrees with what each service publishes and
consumes; the Kubernetes workloads sign in as their own user from a Secret of their own; the
documentation grants exactly the table's ACLs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import yaml  # type: ignore[import-untyped]
from kubernetes import client

from codeflow_auth.consumers import consumers as auth_consumers
from codeflow_auth.deletion import ActivityEvidence
from codeflow_auth.events import PUBLISHES as AUTH_PUBLISHES
from codeflow_contracts import Message
from codeflow_infra.kafka_acls import SERVICES, ServiceAccess, kafka_acls_commands
from codeflow_janitor.consumers import consumers as janitor_consumers
from codeflow_janitor.events import PUBLISHES as JANITOR_PUBLISHES
from codeflow_messaging import ReliableConsumer, SessionFactory
from codeflow_profiles.consumers import consumers as profiles_consumers
from codeflow_profiles.events import PUBLISHES as PROFILES_PUBLISHES
from codeflow_repositories.consumers import consumers as repositories_consumers
from codeflow_repositories.events import PUBLISHES as REPOSITORIES_PUBLISHES

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy" / "k8s"
NO_SESSIONS = cast(SessionFactory, None)  # the consumers are built, never started


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def environment_config(documents: list[dict[str, Any]]) -> dict[str, str]:
    """The data of the ConfigMap that sets ``CODEFLOW_ENV``: the services' shared settings."""
    configs = [c["data"] for c in of_kind(documents, "ConfigMap").values() if "data" in c]
    return next(c for c in configs if "CODEFLOW_ENV" in c)


def access(name: str) -> ServiceAccess:
    return next(service for service in SERVICES if service.principal == name)


def test_each_service_may_write_exactly_the_topics_its_outbox_publishes_to() -> None:
    publishes: dict[str, Sequence[type[Message]]] = {
        "auth": AUTH_PUBLISHES,
        "profiles": PROFILES_PUBLISHES,
        "repositories": REPOSITORIES_PUBLISHES,
        "janitor": JANITOR_PUBLISHES,
    }
    for name, messages in publishes.items():
        assert set(access(name).writes) == {message.topic for message in messages}, name


def test_each_service_may_read_exactly_what_its_consumer_group_reads() -> None:
    evidence = ActivityEvidence(timedelta(hours=1))
    consumers: dict[str, list[ReliableConsumer]] = {
        "auth": auth_consumers(NO_SESSIONS, evidence=evidence),
        "profiles": profiles_consumers(NO_SESSIONS),
        "repositories": list(repositories_consumers(NO_SESSIONS)),
        "janitor": janitor_consumers(NO_SESSIONS),
    }
    for name, found in consumers.items():
        service = access(name)
        assert {consumer.group_id for consumer in found} == {service.group}, name
        assert {t for consumer in found for t in consumer.topics} == set(service.reads), name


def test_the_documentation_grants_the_tables_acls() -> None:
    readme = (REPO_ROOT / "deploy" / "README.md").read_text()
    for command in kafka_acls_commands():
        assert command in readme, f"deploy/README.md lacks: {command}"


def test_the_kafka_secrets_example_is_valid_and_holds_only_placeholders() -> None:
    examples = list(yaml.safe_load_all((K8S / "base" / "kafka-secrets.example.yaml").read_text()))
    assert {e["metadata"]["name"] for e in examples} == {
        f"codeflow-kafka-{service.principal}" for service in SERVICES
    }
    for example in examples:
        client.V1Secret.model_validate(example)  # the API's model of a Secret takes it
        data = example["stringData"]
        assert data["KAFKA_SASL_PASSWORD"] == "REPLACE-ME"
        assert example["metadata"]["name"] == f"codeflow-kafka-{data['KAFKA_SASL_USERNAME']}"


def test_each_service_signs_in_as_its_own_user_over_tls_in_the_base(
    k8s_base: list[dict[str, Any]],
) -> None:
    config = environment_config(k8s_base)
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    deployments = of_kind(k8s_base, "Deployment")
    for service in SERVICES:
        (container,) = deployments[service.principal]["spec"]["template"]["spec"]["containers"]
        secrets = [e["secretRef"] for e in container["envFrom"] if "secretRef" in e]
        assert secrets == [{"name": f"codeflow-kafka-{service.principal}", "optional": True}]


def test_the_dev_overlay_keeps_its_development_kafka_plaintext(
    k8s_dev: list[dict[str, Any]],
) -> None:
    merged = environment_config(k8s_dev)
    assert merged["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    assert merged["CODEFLOW_ENV"] == "development"
