"""deploy/k8s/overlays/production: what a platform team expects of it. One way in (an
Ingress with TLS, to the gateway), autoscaled and spread, kept through drains, fenced by
NetworkPolicies, each pod reading only its own Secrets, scraped by Prometheus, and its
Kafka and PostgreSQL the operators' (Strimzi, CloudNativePG), matching the contracts'
topics and the ACL table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from codeflow_infra.kafka_acls import SERVICES as KAFKA_SERVICES
from codeflow_infra.kafka_acls import acls, all_topics

SERVICES = {"auth": 8001, "profiles": 8002, "repositories": 8003, "janitor": 8004}
HTTP_DEPLOYMENTS = {*SERVICES, "gateway"}
EXAMPLE_SECRETS = (
    Path(__file__).resolve().parents[2] / "deploy/k8s/overlays/production/secrets.example.yaml"
)

Documents = list[dict[str, Any]]
Labels = dict[str, str]


def of_kind(documents: Documents, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def pod_template(documents: Documents, name: str) -> dict[str, Any]:
    template: dict[str, Any] = of_kind(documents, "Deployment")[name]["spec"]["template"]
    return template


def selects(selector: dict[str, Any], labels: Labels) -> bool:
    """Whether a label selector (matchLabels only, as these manifests write them) matches."""
    assert set(selector) <= {"matchLabels"}, selector
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def peer_matches(peer: dict[str, Any], labels: Labels, namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": namespace}
        if not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif namespace != "codeflow":
        return False
    return selects(peer.get("podSelector", {}), labels)


def allowed_by(rules: list[dict[str, Any]], side: str, labels: Labels, ns: str, port: int) -> bool:
    return any(
        any(peer_matches(peer, labels, ns) for peer in rule.get(side, []))
        and any(entry["port"] == port for entry in rule.get("ports", []))
        for rule in rules
    )


def policies_allow(
    documents: Documents, pod: Labels, direction: str, peer: Labels, peer_ns: str, port: int
) -> bool:
    """Whether the namespace's NetworkPolicies of ``direction`` (Ingress or Egress) that select
    ``pod`` let it take (or open) a connection from (or to) ``peer`` on ``port``."""
    policies = [p["spec"] for p in of_kind(documents, "NetworkPolicy").values()]
    selecting = [
        p for p in policies if direction in p["policyTypes"] and selects(p["podSelector"], pod)
    ]
    side = "from" if direction == "Ingress" else "to"
    return not selecting or any(
        allowed_by(p.get(direction.lower(), []), side, peer, peer_ns, port) for p in selecting
    )


def connection_allowed(
    documents: Documents, source: Labels, target: Labels, port: int, *, source_ns: str = "codeflow"
) -> bool:
    """Whether ``source`` may open ``target``:``port``, both ends' policies considered."""
    egress_ok = source_ns != "codeflow" or policies_allow(
        documents, source, "Egress", target, "codeflow", port
    )
    return egress_ok and policies_allow(documents, target, "Ingress", source, source_ns, port)


def pod_labels(documents: Documents, name: str) -> Labels:
    labels: Labels = pod_template(documents, name)["metadata"]["labels"]
    return labels


POSTGRES: Labels = {"cnpg.io/cluster": "codeflow-postgres", "cnpg.io/instanceRole": "primary"}
KAFKA: Labels = {"strimzi.io/cluster": "codeflow", "strimzi.io/kind": "Kafka"}


def test_the_ingress_ends_tls_with_a_cert_manager_certificate_and_leads_to_the_gateway(
    k8s_production: Documents,
) -> None:
    (ingress,) = of_kind(k8s_production, "Ingress").values()
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"]
    assert tls["secretName"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}


def test_every_http_deployment_is_autoscaled_from_two_replicas(k8s_production: Documents) -> None:
    autoscalers = of_kind(k8s_production, "HorizontalPodAutoscaler")
    deployments = of_kind(k8s_production, "Deployment")
    assert set(autoscalers) == HTTP_DEPLOYMENTS
    for name, autoscaler in autoscalers.items():
        target = autoscaler["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert name in deployments
        assert 2 <= autoscaler["spec"]["minReplicas"] < autoscaler["spec"]["maxReplicas"]


def test_a_drain_never_takes_the_last_replica_of_a_deployment(k8s_production: Documents) -> None:
    budgets = of_kind(k8s_production, "PodDisruptionBudget")
    assert set(budgets) == HTTP_DEPLOYMENTS
    for name, budget in budgets.items():
        assert budget["spec"]["minAvailable"] == 1
        assert selects(budget["spec"]["selector"], pod_labels(k8s_production, name))


def test_every_deployment_spreads_its_replicas_across_zones_and_nodes(
    k8s_production: Documents,
) -> None:
    for name in of_kind(k8s_production, "Deployment"):
        spec = pod_template(k8s_production, name)["spec"]
        constraints = spec["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in constraints}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name
        for constraint in constraints:
            assert selects(constraint["labelSelector"], pod_labels(k8s_production, name))
            assert "app.kubernetes.io/name" in constraint["matchLabelKeys"]


def test_nothing_is_reachable_unless_a_policy_says_so(k8s_production: Documents) -> None:
    deny = of_kind(k8s_production, "NetworkPolicy")["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    stranger = {"app.kubernetes.io/name": "stranger"}
    for name, port in SERVICES.items():
        target = pod_labels(k8s_production, name)
        assert not connection_allowed(k8s_production, stranger, target, port)
        assert not connection_allowed(k8s_production, stranger, target, port, source_ns="other")


def test_only_the_gateway_reaches_the_services_and_only_the_ingress_the_gateway(
    k8s_production: Documents,
) -> None:
    gateway = pod_labels(k8s_production, "gateway")
    ingress_controller = {"app.kubernetes.io/name": "ingress-nginx"}
    assert connection_allowed(
        k8s_production, ingress_controller, gateway, 8080, source_ns="ingress-nginx"
    )
    assert not connection_allowed(k8s_production, ingress_controller, gateway, 8080)
    for name, port in SERVICES.items():
        target = pod_labels(k8s_production, name)
        assert connection_allowed(k8s_production, gateway, target, port), name
        assert not connection_allowed(
            k8s_production, ingress_controller, target, port, source_ns="ingress-nginx"
        )
        if name != "auth":  # every service reads auth's JWKS
            for other in SERVICES.keys() - {name}:
                source = pod_labels(k8s_production, other)
                assert not connection_allowed(k8s_production, source, target, port), other
    assert not connection_allowed(k8s_production, gateway, POSTGRES, 5432)


def test_services_reach_their_database_kafka_and_auth_s_jwks_and_nothing_else(
    k8s_production: Documents,
) -> None:
    auth = pod_labels(k8s_production, "auth")
    for name in SERVICES:
        source = pod_labels(k8s_production, name)
        assert connection_allowed(k8s_production, source, POSTGRES, 5432), name
        if name != "auth":
            assert connection_allowed(k8s_production, source, auth, 8001), name
        # The brokers' side is the policy Strimzi writes from the listener's peers.
        assert policies_allow(k8s_production, source, "Egress", KAFKA, "codeflow", 9093), name
        assert not policies_allow(k8s_production, source, "Egress", KAFKA, "codeflow", 9092)
        (listener,) = of_kind(k8s_production, "Kafka")["codeflow"]["spec"]["kafka"]["listeners"]
        assert any(selects(p["podSelector"], source) for p in listener["networkPolicyPeers"])
    sweeper: Labels = of_kind(k8s_production, "CronJob")["janitor-sweep"]["spec"]["jobTemplate"][
        "spec"
    ]["template"]["metadata"]["labels"]
    assert connection_allowed(k8s_production, sweeper, POSTGRES, 5432)
    assert not policies_allow(k8s_production, sweeper, "Egress", KAFKA, "codeflow", 9093)
    assert not connection_allowed(k8s_production, sweeper, auth, 8001)


def secrets_read(template: dict[str, Any]) -> set[str]:
    spec = template["spec"]
    names = {
        volume["secret"]["secretName"] for volume in spec.get("volumes", []) if "secret" in volume
    }
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        names |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        names |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    return names


def test_each_service_pod_reads_only_its_own_secrets(k8s_production: Documents) -> None:
    shared = {"auth": {"codeflow-auth-internal"}, "repositories": {"codeflow-auth-internal"}}
    for name in SERVICES:
        own = {f"codeflow-{name}", f"codeflow-kafka-{name}", "codeflow-cluster-ca-cert"}
        assert secrets_read(pod_template(k8s_production, name)) == own | shared.get(name, set())
    sweep = of_kind(k8s_production, "CronJob")["janitor-sweep"]["spec"]["jobTemplate"]["spec"]
    assert secrets_read(sweep["template"]) == {"codeflow-janitor"}
    assert not of_kind(k8s_production, "Secret")


def test_each_service_signs_in_to_kafka_as_its_own_user_over_tls(
    k8s_production: Documents,
) -> None:
    (config,) = (c for n, c in of_kind(k8s_production, "ConfigMap").items() if "config" in n)
    assert config["data"]["KAFKA_BOOTSTRAP_SERVERS"] == "codeflow-kafka-bootstrap:9093"
    (kafka,) = of_kind(k8s_production, "Kafka").values()
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert (listener["port"], listener["tls"]) == (9093, True)
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert kafka["spec"]["entityOperator"]["userOperator"]["secretPrefix"] == "codeflow-kafka-"
    for name in SERVICES:
        (container,) = pod_template(k8s_production, name)["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAFKA_SASL_USERNAME"]["value"] == name
        password = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": f"codeflow-kafka-{name}", "key": "password"}
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert config["data"]["KAFKA_SSL_CAFILE"].rpartition("/")[0] in mounts


def test_prometheus_scrapes_each_service_s_metrics_on_its_service_port(
    k8s_production: Documents,
) -> None:
    monitors = of_kind(k8s_production, "ServiceMonitor")
    services = of_kind(k8s_production, "Service")
    assert set(monitors) == set(SERVICES)
    for name, monitor in monitors.items():
        assert selects(monitor["spec"]["selector"], services[name]["metadata"]["labels"])
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")


def test_strimzi_runs_kafka_in_kraft_mode_on_three_nodes(k8s_production: Documents) -> None:
    (pool,) = of_kind(k8s_production, "KafkaNodePool").values()
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "codeflow"
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    (kafka,) = of_kind(k8s_production, "Kafka").values()
    assert kafka["metadata"]["name"] == "codeflow"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False


def test_the_kafka_topics_are_the_contracts_and_dead_letters_replicated_three_times(
    k8s_production: Documents,
) -> None:
    topics = of_kind(k8s_production, "KafkaTopic").values()
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(all_topics())
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "codeflow"
        assert (topic["spec"]["partitions"], topic["spec"]["replicas"]) == (3, 3)
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["config"]["retention.ms"] > 0


def test_the_kafka_users_hold_exactly_the_acl_table_s_acls(k8s_production: Documents) -> None:
    users = of_kind(k8s_production, "KafkaUser")
    assert set(users) == {service.principal for service in KAFKA_SERVICES}
    for service in KAFKA_SERVICES:
        spec = users[service.principal]["spec"]
        assert spec["authentication"]["type"] == "scram-sha-512"
        granted = sorted(
            (rule["resource"]["type"], rule["resource"]["name"], operation.upper())
            for rule in spec["authorization"]["acls"]
            for operation in rule["operations"]
        )
        expected = sorted(
            (acl.resource_type.lower(), acl.resource, acl.operation) for acl in acls([service])
        )
        assert granted == expected, service.principal


def test_cloudnative_pg_gives_each_service_a_role_and_a_database_it_alone_owns(
    k8s_production: Documents,
) -> None:
    (cluster,) = of_kind(k8s_production, "Cluster").values()
    assert cluster["spec"]["instances"] >= 3
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    databases = {d["spec"]["name"]: d["spec"] for d in of_kind(k8s_production, "Database").values()}
    assert set(roles) == set(databases) == {f"codeflow_{name}" for name in SERVICES}
    for name, database in databases.items():
        assert database["owner"] == name
        assert database["cluster"]["name"] == cluster["metadata"]["name"]
        assert roles[name]["login"] is True
        assert roles[name].get("superuser", False) is False


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_s_database_url_names_its_own_role_and_database_in_the_example(
    name: str,
) -> None:
    # The example Secrets say where each service connects: CloudNativePG's primary Service.
    secrets = {s["metadata"]["name"]: s for s in yaml.safe_load_all(EXAMPLE_SECRETS.read_text())}
    url = secrets[f"codeflow-{name}"]["stringData"][f"{name.upper()}_DATABASE_URL"]
    assert url.startswith(f"postgresql://codeflow_{name}:")
    assert url.endswith(f"@codeflow-postgres-rw:5432/codeflow_{name}")
    role = secrets[f"codeflow-postgres-{name}"]
    assert role["type"] == "kubernetes.io/basic-auth"
    assert role["stringData"]["username"] == f"codeflow_{name}"


def test_prometheus_loads_the_alert_rules_promtool_checks(k8s_production: Documents) -> None:
    """The PrometheusRule holds deploy/prometheus/alerts.yaml's groups as they are: the file
    `make deploy-check` runs promtool on is the one the Operator loads."""
    alerts = Path(__file__).resolve().parents[2] / "deploy/prometheus/alerts.yaml"
    (rule,) = of_kind(k8s_production, "PrometheusRule").values()
    assert rule["spec"]["groups"] == yaml.safe_load(alerts.read_text())["groups"]
