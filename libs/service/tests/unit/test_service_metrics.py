"""``GET /metrics``: every service counts its HTTP requests and times them, labelled by the
route template (never the raw path), the method and the status, in Prometheus' text format.
A path no route matches adds no label value; ``/metrics``, ``/healthz`` and ``/readyz`` are
not counted."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.parser import text_string_to_metric_families

from codeflow_messaging.metrics import MessagingMetrics
from codeflow_service.app import create_service_app
from codeflow_service.metrics import ServiceMetrics
from codeflow_service.settings import ServiceSettings


def example_client(metrics: ServiceMetrics | None = None) -> TestClient:
    router = APIRouter(prefix="/example")

    @router.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        if item_id == "missing":
            raise HTTPException(404)
        return {"id": item_id}

    settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
    app = create_service_app(name="example", settings=settings, routers=[router], metrics=metrics)
    return TestClient(app)


def samples(client: TestClient, name: str) -> list[dict[str, str]]:
    """The labels of every sample called ``name`` that ``/metrics`` shows now, with its value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [
        {**sample.labels, "value": str(sample.value)}
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name
    ]


def test_requests_are_counted_by_route_template_method_and_status() -> None:
    client = example_client()
    client.get("/example/items/1")
    client.get("/example/items/2")
    client.get("/example/items/missing")

    counted = samples(client, "http_requests_total")

    assert {"handler": "/example/items/{item_id}", "method": "GET", "status": "200",
            "value": "2.0"} in counted  # fmt: skip
    assert {"handler": "/example/items/{item_id}", "method": "GET", "status": "404",
            "value": "1.0"} in counted  # fmt: skip
    assert not [s for s in counted if "/items/1" in s["handler"]]


def test_request_durations_are_a_histogram_by_route_template() -> None:
    client = example_client()
    client.get("/example/items/1")

    counts = samples(client, "http_request_duration_seconds_count")
    buckets = samples(client, "http_request_duration_seconds_bucket")

    assert {"handler": "/example/items/{item_id}", "method": "GET", "status": "200",
            "value": "1.0"} in counts  # fmt: skip
    assert any(b["le"] == "+Inf" and b["handler"] == "/example/items/{item_id}" for b in buckets)


def test_a_path_no_route_matches_adds_no_label_value() -> None:
    client = example_client()
    client.get("/example/items/1")
    for n in range(5):
        client.get(f"/nowhere/{n}")

    handlers = {s["handler"] for s in samples(client, "http_requests_total")}

    assert handlers <= {"/example/items/{item_id}", "none"}
    assert not [h for h in handlers if h.startswith("/nowhere")]


def test_metrics_and_health_endpoints_are_not_counted() -> None:
    client = example_client()
    assert client.get("/healthz").status_code == 200
    client.get("/metrics")
    client.get("/metrics")

    handlers = {s["handler"] for s in samples(client, "http_requests_total")}

    assert not handlers & {"/metrics", "/healthz", "/readyz"}


def test_each_app_counts_its_own_requests() -> None:
    first, second = example_client(), example_client()
    first.get("/example/items/1")

    assert not samples(second, "http_requests_total")


def families(client: TestClient) -> set[str]:
    return {family.name for family in text_string_to_metric_families(client.get("/metrics").text)}


def test_the_consumers_and_the_outbox_are_measured_in_the_apps_registry() -> None:
    messaging = {family.name for family in MessagingMetrics().registry.collect()}

    assert messaging
    assert messaging <= families(example_client())


def test_what_is_read_at_scrape_time_is_read_before_each_answer() -> None:
    metrics = ServiceMetrics()
    reads = Gauge("example_reads", "How often the example was read.", registry=metrics.registry)

    async def read() -> None:
        reads.inc()

    client = example_client(metrics)
    with metrics.measured_at_scrape(read):
        client.get("/metrics")
        assert samples(client, "example_reads") == [{"value": "2.0"}]
    assert samples(client, "example_reads") == [{"value": "2.0"}]


def test_a_reading_that_fails_is_logged_and_the_scrape_still_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = ServiceMetrics()

    async def broken() -> None:
        raise ConnectionRefusedError("database down")

    client = example_client(metrics)
    with metrics.measured_at_scrape(broken):
        assert "http_requests" in families(client)

    assert "database down" in caplog.text


def test_a_service_makes_its_own_metrics_once_per_app() -> None:
    metrics = ServiceMetrics()

    def make(registry: CollectorRegistry) -> Counter:
        return Counter("example_things", "Things.", registry=registry)

    assert metrics.own(make) is metrics.own(make)
    assert ServiceMetrics().own(make) is not metrics.own(make)
