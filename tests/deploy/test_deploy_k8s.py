"""deploy/k8s: the kustomizations render; every object is valid by the Kubernetes client's
models of the API (an unknown or misspelt key, a wrong type or a missing field fails); and
the workloads are what an operator expects: probes, resources, non-root, migrations first,
secrets referenced and never inlined, one janitor sweeper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml  # type: ignore[import-untyped]
from kubernetes import client

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "deploy" / "k8s"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the containers listen on
TMP = "/tmp"  # noqa: S108 - a mount point, not a file made here
SERVICES = {"auth": 8001, "profiles": 8002, "repositories": 8003, "janitor": 8004}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|_KEYS$|DATABASE_URL$")
SHARED_SECRETS = {"REPOSITORIES_AUTH_INTERNAL_TOKEN": "AUTH_INTERNAL_TOKEN"}
"""Variables read from another service's key of the Secret: one value, which can't drift."""

MODELS: dict[tuple[str, str], type[pydantic.BaseModel]] = {
    ("v1", "ConfigMap"): client.V1ConfigMap,
    ("v1", "Namespace"): client.V1Namespace,
    ("v1", "Secret"): client.V1Secret,
    ("v1", "Service"): client.V1Service,
    ("apps/v1", "Deployment"): client.V1Deployment,
    ("apps/v1", "StatefulSet"): client.V1StatefulSet,
    ("batch/v1", "CronJob"): client.V1CronJob,
    ("batch/v1", "Job"): client.V1Job,
    ("networking.k8s.io/v1", "Ingress"): client.V1Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): client.V1NetworkPolicy,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): client.V2HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): client.V1PodDisruptionBudget,
}
CUSTOM_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "monitoring.coreos.com/")
"""The operators' custom resources: no client models; checked against their CRDs."""


def object_violations(document: dict[str, Any]) -> list[str]:
    """Why the API's model of the object's kind refuses it: the client's models forbid
    unknown keys, check types strictly and require what the API requires."""
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    if key[0].startswith(CUSTOM_GROUPS):
        return []
    if key not in MODELS:
        return [f"{key}: a kind these tests do not know; add its model"]
    name = f"{document['kind']}/{document.get('metadata', {}).get('name')}"
    try:
        MODELS[key].model_validate(document)
    except pydantic.ValidationError as exc:
        return [
            f"{name} {'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
    return []


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for document in documents:
        name = f"{document['kind']}/{document['metadata']['name']}"
        if document["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield name, document["spec"]["template"]["spec"]
        elif document["kind"] == "CronJob":
            yield name, document["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


@pytest.fixture(params=["base", "dev", "production"])
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = request.getfixturevalue(f"k8s_{request.param}")
    return documents


def test_every_rendered_object_is_valid_by_the_api_models(
    rendered: list[dict[str, Any]],
) -> None:
    problems = [problem for document in rendered for problem in object_violations(document)]
    assert problems == []


def test_the_validation_catches_a_misspelt_or_missing_field(
    k8s_base: list[dict[str, Any]],
) -> None:
    deployment = yaml.safe_load(yaml.safe_dump(of_kind(k8s_base, "Deployment")["auth"]))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    del container["name"]
    deployment["spec"]["replicas"] = "2"
    problems = "\n".join(object_violations(deployment))
    assert "containers.0.readinesProbe: Extra inputs are not permitted" in problems
    assert "containers.0.name: Field required" in problems
    assert "spec.replicas: Input should be a valid integer" in problems


def test_the_validation_catches_a_broken_network_policy() -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "broken"},
        "spec": {"podSelector": {}, "policyType": ["Ingress"], "ingress": [{"ports": "8001"}]},
    }
    problems = "\n".join(object_violations(policy))
    assert "spec.policyType: Extra inputs are not permitted" in problems
    assert "spec.ingress.0.ports: Input should be a valid list" in problems


def test_the_example_secret_is_valid_and_holds_only_placeholders() -> None:
    example = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    assert object_violations(example) == []
    assert example["metadata"]["name"] == "codeflow-secrets"
    assert all("REPLACE-ME" in value for value in example["stringData"].values())


def test_the_base_ships_no_secret_and_every_workload_references_codeflow_secrets(
    k8s_base: list[dict[str, Any]],
) -> None:
    assert not of_kind(k8s_base, "Secret")
    for name, spec in pod_specs(k8s_base):
        for container in containers(spec):
            for variable, entry in env_of(container).items():
                if SECRET_NAME.search(variable):
                    reference = entry.get("valueFrom", {}).get("secretKeyRef")
                    assert reference, f"{name}: {variable} is not read from a Secret"
                    assert reference["name"] == "codeflow-secrets"
                    assert reference["key"] == SHARED_SECRETS.get(variable, variable)
    for config in of_kind(k8s_base, "ConfigMap").values():
        assert not [key for key in config.get("data", {}) if SECRET_NAME.search(key)]


def test_secret_references_point_at_a_secret_the_dev_overlay_generates(
    k8s_dev: list[dict[str, Any]],
) -> None:
    (secret_name,) = of_kind(k8s_dev, "Secret")
    assert secret_name.startswith("codeflow-secrets-")
    referenced = {
        entry["valueFrom"]["secretKeyRef"]["name"]
        for _, spec in pod_specs(k8s_dev)
        for container in containers(spec)
        for entry in env_of(container).values()
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert referenced == {secret_name}
    config = next(iter(of_kind(k8s_dev, "ConfigMap").values()))
    assert of_kind(k8s_dev, "Deployment")["auth"]["metadata"]["namespace"] == "codeflow-dev"
    configs = {c["data"].get("CODEFLOW_ENV") for c in of_kind(k8s_dev, "ConfigMap").values()}
    assert "development" in configs, config


def service_env(documents: list[dict[str, Any]], name: str) -> dict[str, dict[str, Any]]:
    (container,) = of_kind(documents, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
    return env_of(container)


def test_repositories_presents_the_very_credential_auth_expects_on_its_internal_routes(
    rendered: list[dict[str, Any]],
) -> None:
    auth = service_env(rendered, "auth")["AUTH_INTERNAL_TOKEN"]["valueFrom"]["secretKeyRef"]
    repositories = service_env(rendered, "repositories")["REPOSITORIES_AUTH_INTERNAL_TOKEN"]
    reference = repositories["valueFrom"]["secretKeyRef"]

    assert reference == auth
    assert "optional" not in reference


def test_repositories_reaches_auth_straight_by_its_service_name(
    k8s_base: list[dict[str, Any]],
) -> None:
    (config,) = (c for n, c in of_kind(k8s_base, "ConfigMap").items() if "config" in n)

    assert config["data"]["REPOSITORIES_AUTH_INTERNAL_URL"] == "http://auth:8001"


def test_the_example_and_development_secrets_hold_the_internal_credential() -> None:
    example = yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())
    development = (K8S / "overlays" / "dev" / "development-secrets.env").read_text()

    assert "AUTH_INTERNAL_TOKEN" in example["stringData"]
    assert re.search(r"^AUTH_INTERNAL_TOKEN=\S+$", development, re.MULTILINE)


def test_every_long_running_container_has_liveness_and_readiness_probes(
    rendered: list[dict[str, Any]],
) -> None:
    for kind in ("Deployment", "StatefulSet"):
        for name, workload in of_kind(rendered, kind).items():
            for container in workload["spec"]["template"]["spec"]["containers"]:
                assert "livenessProbe" in container, f"{kind}/{name}"
                assert "readinessProbe" in container, f"{kind}/{name}"


def test_a_service_is_alive_by_healthz_and_ready_by_readyz(
    k8s_base: list[dict[str, Any]],
) -> None:
    deployments = of_kind(k8s_base, "Deployment")
    for name, port in SERVICES.items():
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["args"] == ["serve", "--host", ALL_INTERFACES, "--port", str(port)]


def test_every_container_has_resource_requests_and_limits_ephemeral_storage_included(
    rendered: list[dict[str, Any]],
) -> None:
    for name, spec in pod_specs(rendered):
        for container in containers(spec):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert set(resources.get(bound, {})) == {"cpu", "memory", "ephemeral-storage"}, name


def test_every_pod_runs_as_non_root_without_privilege_escalation(
    rendered: list[dict[str, Any]],
) -> None:
    for name, spec in pod_specs(rendered):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec.get("automountServiceAccountToken") is False, name
        # Service links would inject e.g. AUTH_PORT=tcp://..., which the services would read.
        assert spec.get("enableServiceLinks") is False, name
        for container in containers(spec):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name


def test_codeflow_containers_have_a_read_only_root_filesystem(
    k8s_base: list[dict[str, Any]],
) -> None:
    for name, spec in pod_specs(k8s_base):
        for container in containers(spec):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert TMP in {mount["mountPath"] for mount in container["volumeMounts"]}, name


def test_each_service_migrates_its_database_in_an_init_container(
    k8s_base: list[dict[str, Any]],
) -> None:
    deployments = of_kind(k8s_base, "Deployment")
    for name in SERVICES:
        spec = deployments[name]["spec"]["template"]["spec"]
        (migrate,) = spec["initContainers"]
        (service,) = spec["containers"]
        assert migrate["args"] == ["migrate"]
        assert migrate["image"] == service["image"]
        assert migrate["image"].startswith(f"codeflow-{name}:")
        assert f"{name.upper()}_DATABASE_URL" in env_of(migrate)


def test_there_is_exactly_one_janitor_sweeper(rendered: list[dict[str, Any]]) -> None:
    sweepers = [
        (name, container)
        for name, spec in pod_specs(rendered)
        for container in spec["containers"]
        if container.get("args", [None])[0] == "sweep"
    ]
    assert [name for name, _ in sweepers] == ["CronJob/janitor-sweep"]
    cronjob = of_kind(rendered, "CronJob")["janitor-sweep"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert cronjob["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    (janitor,) = of_kind(rendered, "Deployment")["janitor"]["spec"]["template"]["spec"][
        "containers"
    ]
    assert env_of(janitor)["JANITOR_SWEEP_INTERVAL"]["value"] == "0"


def test_services_are_cluster_internal_and_select_their_pods(
    rendered: list[dict[str, Any]],
) -> None:
    workloads = {**of_kind(rendered, "Deployment"), **of_kind(rendered, "StatefulSet")}
    for name, service in of_kind(rendered, "Service").items():
        assert service["spec"]["type"] == "ClusterIP", name
        pod = workloads[name]["spec"]["template"]
        selector = service["spec"]["selector"]
        assert selector.items() <= pod["metadata"]["labels"].items(), name
        port_names = {p["name"] for c in pod["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names, name


def test_the_gateway_routes_to_the_services_by_their_service_names(
    k8s_base: list[dict[str, Any]],
) -> None:
    (gateway,) = of_kind(k8s_base, "Deployment")["gateway"]["spec"]["template"]["spec"][
        "containers"
    ]
    services = of_kind(k8s_base, "Service")
    for name, port in SERVICES.items():
        assert env_of(gateway)[f"{name.upper()}_UPSTREAM"]["value"] == f"{name}:{port}"
        assert services[name]["spec"]["ports"][0]["port"] == port


def test_the_dev_overlay_s_stateful_sets_have_headless_services_and_kafka_a_sub_path(
    k8s_dev: list[dict[str, Any]],
) -> None:
    services = of_kind(k8s_dev, "Service")
    stateful_sets = of_kind(k8s_dev, "StatefulSet")
    assert set(stateful_sets) == {"kafka", "postgres"}
    for name, stateful_set in stateful_sets.items():
        assert services[stateful_set["spec"]["serviceName"]]["spec"]["clusterIP"] == "None", name
    (broker,) = stateful_sets["kafka"]["spec"]["template"]["spec"]["containers"]
    (data,) = (m for m in broker["volumeMounts"] if m["name"] == "data")
    assert data["subPath"]


def test_the_dev_overlay_runs_one_auth_because_development_keys_are_per_process(
    k8s_dev: list[dict[str, Any]],
) -> None:
    assert of_kind(k8s_dev, "Deployment")["auth"]["spec"]["replicas"] == 1


def test_the_gateway_takes_the_public_url_from_the_services_config(
    k8s_base: list[dict[str, Any]],
) -> None:
    (gateway,) = of_kind(k8s_base, "Deployment")["gateway"]["spec"]["template"]["spec"][
        "containers"
    ]
    source = env_of(gateway)["AUTH_URL"]["valueFrom"]["configMapKeyRef"]

    assert source["name"].startswith("codeflow-config")
    assert source["key"] == "AUTH_URL"


def test_the_services_believe_no_one_s_forwarded_headers_as_pods_have_no_fixed_address(
    k8s_base: list[dict[str, Any]],
) -> None:
    # Pods have no fixed addresses to name the gateway by, so the services believe no one's
    # X-Forwarded-* (uvicorn's default, 127.0.0.1, would be the pod itself).
    (config,) = (c for n, c in of_kind(k8s_base, "ConfigMap").items() if "config" in n)

    assert config["data"]["FORWARDED_ALLOW_IPS"] == ""


def test_the_services_log_json_lines(k8s_base: list[dict[str, Any]]) -> None:
    (config,) = (c for n, c in of_kind(k8s_base, "ConfigMap").items() if "config" in n)

    assert config["data"]["LOG_FORMAT"] == "json"


def test_the_gateway_offers_the_trusted_proxies_setting_and_trusts_none_by_default(
    k8s_base: list[dict[str, Any]],
) -> None:
    (gateway,) = of_kind(k8s_base, "Deployment")["gateway"]["spec"]["template"]["spec"][
        "containers"
    ]

    assert env_of(gateway)["GATEWAY_TRUSTED_PROXIES"]["value"] == ""
