"""The alert rules (deploy/prometheus) and the Grafana dashboard (deploy/grafana) ask only for
metrics the services expose, read from each service's own ``/metrics``; every alert says what
to do. (``promtool check rules`` and ``promtool test rules`` run in ``make deploy-check``.)"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "repositories", "janitor")
RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "codeflow.json"

# The samples each type of family shows (counters' _created is prometheus-client's own).
SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
                "group_right", "bool", "offset", "inf", "nan"}  # fmt: skip


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    """Every sample name the four services' ``/metrics`` can show, read from a scrape of each
    app as it is built (development settings; no database or Kafka needed to answer)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CODEFLOW_ENV", "development")
        for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
            env.delenv(name, raising=False)
        names: set[str] = set()
        for service in SERVICES:
            app = importlib.import_module(f"codeflow_{service}.main").create_app()
            scraped = TestClient(app).get("/metrics")
            assert scraped.status_code == 200, service
            for family in text_string_to_metric_families(scraped.text):
                names.update(family.name + s for s in SAMPLE_SUFFIXES[family.type])
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: what is left once strings, label
    matchers, ranges, grouping clauses, functions, keywords and numbers are taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    words = re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", expr)
    return {
        word.group()
        for word in words
        if word.group().lower() not in PROMQL_WORDS
        and not re.match(r"\s*\(", expr[word.end() :])  # a function
    }


def alert_rules() -> Iterator[dict[str, Any]]:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        yield from group["rules"]


def dashboard_exprs() -> Iterator[str]:
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", ()):
            yield target["expr"]


def test_the_name_reader_finds_metrics_and_leaves_out_functions_labels_and_keywords() -> None:
    expr = (
        'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / '
        "histogram_quantile(0.95, sum by (le) (x_bucket)) > 0.05 unless on (group) y"
    )
    assert metric_names(expr) == {"http_requests_total", "x_bucket", "y"}


def test_every_metric_the_alerts_query_is_one_a_service_exposes(exposed: set[str]) -> None:
    asked = {name for rule in alert_rules() for name in metric_names(str(rule["expr"]))}

    assert asked
    assert asked - exposed == set()


def test_every_metric_the_dashboard_queries_is_one_a_service_exposes(exposed: set[str]) -> None:
    asked = {name for expr in dashboard_exprs() for name in metric_names(expr)}

    assert asked
    assert asked - exposed == set()


def test_the_dashboard_shows_requests_latency_consumers_the_outbox_and_the_janitor() -> None:
    shown = {name for expr in dashboard_exprs() for name in metric_names(expr)}

    assert {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "kafka_consumer_lag",
        "kafka_consumer_batch_records_bucket",
        "kafka_consumer_retries_total",
        "kafka_consumer_dead_letters_total",
        "outbox_pending_rows",
        "outbox_oldest_pending_age_seconds",
        "janitor_deletions",
    } <= shown


def test_every_alert_has_a_severity_a_summary_and_a_description_saying_what_to_do() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert len(rule["annotations"]["description"]) > 40, rule["alert"]
