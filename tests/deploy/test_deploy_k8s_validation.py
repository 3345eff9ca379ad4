"""Every kustomization's objects validated strictly, offline, as a cluster's API server would:
the Kubernetes kinds against the API's JSON schemas (``kubernetes-validate`` ships them), the
operators' custom resources against their CRDs' schemas where their Go modules carry them
(CloudNativePG, the Prometheus Operator). And kube-score on the production overlay, each of
its findings explained in deploy/README.md.

The CRDs come from Go's module proxy, cached by Go after the first download; without Go
(``make deploy-check`` bootstraps it) those tests skip, as the kube-score test does without
the binary ``make deploy-check`` builds (``KUBE_SCORE``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "deploy" / "README.md"
KUBERNETES_VERSION = kubernetes_validate.latest_version()

CRD_MODULES = {
    "postgresql.cnpg.io": ("github.com/cloudnative-pg/cloudnative-pg@v1.27.1", "config/crd/bases"),
    "monitoring.coreos.com": (
        "github.com/prometheus-operator/prometheus-operator@v0.85.0",
        "example/prometheus-operator-crd",
    ),
}
"""Where each API group's CRDs are, in the Go module of its operator."""
NO_SCHEMA_OFFLINE = ("kafka.strimzi.io",)
"""Strimzi's CRDs are generated at its build and published only with its releases' install
files, in no module a package manager fetches: test_deploy_k8s_production.py checks its
resources' fields instead (deploy/README.md says so)."""

Documents = list[dict[str, Any]]


class CrdLoader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, reading a bare ``=`` (an enum value of the Prometheus Operator's
    CRDs) as the string it is rather than YAML 1.1's ``value`` tag."""


CrdLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


@pytest.fixture(params=["base", "dev", "production"])
def overlay(request: pytest.FixtureRequest) -> Documents:
    documents: Documents = request.getfixturevalue(f"k8s_{request.param}")
    return documents


def group_of(document: dict[str, Any]) -> str:
    api_version: str = document["apiVersion"]
    return api_version.rpartition("/")[0]


def kubernetes_violations(document: dict[str, Any]) -> list[str]:
    """What the Kubernetes API's strict JSON schema of the object's kind refuses."""
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.path))}: {error.message}"]
    return []


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema made strict, as the API server prunes what it does not
    know: no property that the schema does not name, unless it keeps unknown fields."""
    schema = dict(schema)
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        schema.setdefault("additionalProperties", False)
    for key in ("properties", "patternProperties"):
        if key in schema:
            schema[key] = {name: strict(value) for name, value in schema[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [strict(value) for value in schema[key]]
    return schema


@cache
def crd_schemas(group: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema, from the CRDs in the operator's Go module."""
    go = shutil.which("go") or (
        "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
    )
    if go is None:
        pytest.skip("no Go to fetch the operators' CRDs with")
    module, directory = CRD_MODULES[group]
    done = subprocess.run(
        [go, "mod", "download", "-json", module],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd="/",
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in (Path(json.loads(done.stdout)["Dir"]) / directory).glob("*.yaml"):
        crd = yaml.load(path.read_text(), Loader=CrdLoader)  # noqa: S506 - safe
        for version in crd["spec"]["versions"]:
            key = (f"{group}/{version['name']}", crd["spec"]["names"]["kind"])
            schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def custom_violations(document: dict[str, Any]) -> list[str]:
    """What the CRD's schema of a custom resource refuses."""
    schema = crd_schemas(group_of(document)).get((document["apiVersion"], document["kind"]))
    if schema is None:
        return [f"{document['apiVersion']} {document['kind']}: no such CRD"]
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def violations_by_object(
    documents: Documents, violations: Callable[[dict[str, Any]], list[str]]
) -> dict[str, list[str]]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": found for d in documents if (found := violations(d))
    }


def test_every_kubernetes_object_is_valid_by_the_api_s_strict_schemas(overlay: Documents) -> None:
    built_in = [d for d in overlay if group_of(d) not in (*CRD_MODULES, *NO_SCHEMA_OFFLINE)]
    assert violations_by_object(built_in, kubernetes_violations) == {}


def test_the_kubernetes_schemas_catch_a_misspelt_field_and_a_wrong_type(
    k8s_production: Documents,
) -> None:
    (policy,) = (
        d
        for d in k8s_production
        if d["metadata"]["name"] == "gateway" and d["kind"] == "NetworkPolicy"
    )
    broken = copy.deepcopy(policy)
    broken["spec"]["policyType"] = broken["spec"].pop("policyTypes")
    assert "'policyType' was unexpected" in "".join(kubernetes_violations(broken))
    broken = copy.deepcopy(policy)
    broken["spec"]["ingress"][0]["ports"][0]["port"] = [8080]
    assert kubernetes_violations(broken)


@pytest.mark.parametrize("group", sorted(CRD_MODULES))
def test_every_custom_resource_is_valid_by_its_crd_s_schema(
    group: str, k8s_production: Documents
) -> None:
    resources = [d for d in k8s_production if group_of(d) == group]
    assert resources
    assert violations_by_object(resources, custom_violations) == {}


def test_the_crd_schemas_catch_a_misspelt_field_and_a_missing_one(
    k8s_production: Documents,
) -> None:
    (cluster,) = (d for d in k8s_production if d["kind"] == "Cluster")
    broken = copy.deepcopy(cluster)
    broken["spec"]["instance"] = broken["spec"].pop("instances")
    assert any("'instance' was unexpected" in p for p in custom_violations(broken))
    (database, *_) = (d for d in k8s_production if d["kind"] == "Database")
    broken = copy.deepcopy(database)
    del broken["spec"]["owner"]
    assert any("'owner' is a required property" in p for p in custom_violations(broken))


def explained_kube_score_checks() -> set[str]:
    """The check ids of deploy/README.md's table of kube-score findings left as they are."""
    section = README.read_text().partition("### kube-score")[2].partition("\n## ")[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))


def test_kube_score_finds_nothing_in_production_that_the_readme_does_not_explain() -> None:
    binary = os.environ.get("KUBE_SCORE")
    if not binary:
        pytest.skip("KUBE_SCORE names no kube-score binary (make deploy-check builds one)")
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(REPO_ROOT / "deploy/k8s/overlays/production")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    scored = subprocess.run(
        [binary, "score", "--output-format", "json", "-"],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = {
        check["check"]["id"]
        for scored_object in json.loads(scored.stdout)
        for check in scored_object["checks"]
        if not check["skipped"] and check["grade"] < 10
    }
    assert findings == explained_kube_score_checks()
