"""Traces: off unless the standard ``OTEL_*`` variables name an exporter; when off, a
caller's trace context still reaches the request; when on, each request is a server span
continuing it, and the service is named in the resource."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision
from opentelemetry.test.globals_test import reset_metrics_globals, reset_trace_globals
from opentelemetry.trace import SpanKind

from codeflow_messaging.tracing import current_traceparent
from codeflow_service.app import create_service_app
from codeflow_service.settings import ServiceSettings
from codeflow_service.tracing import TracingConfigError, configure_tracing, install_tracing
from codeflow_service.tracing_sdk import OnlyWithinATrace, span_exporters

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def traced_app() -> TestClient:
    """An app with the kit's tracing and one route answering with the current trace."""
    app = FastAPI()

    @app.get("/example/trace")
    async def current() -> dict[str, str | None]:
        return {"traceparent": current_traceparent()}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_tracing(app, "example")
    return TestClient(app)


@pytest.fixture
def process_tracing() -> Iterator[None]:
    """Leaves the process untraced again after a test that configured tracing."""
    reset_trace_globals()
    yield
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    reset_trace_globals()


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
    ],
)
def test_nothing_is_exported_unless_otel_traces_exporter_names_an_exporter(
    environ: dict[str, str],
) -> None:
    assert span_exporters(environ) == []


def test_otlp_exports_over_http_and_console_prints() -> None:
    otlp, console = span_exporters({"OTEL_TRACES_EXPORTER": "otlp, console"})

    assert isinstance(otlp, OTLPSpanExporter)
    assert isinstance(console, ConsoleSpanExporter)


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    ],
)
def test_an_exporter_or_protocol_not_shipped_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(TracingConfigError):
        span_exporters(environ)


def test_configured_tracing_names_the_service_unless_otel_service_name_does(
    process_tracing: None,
) -> None:
    assert configure_tracing("profiles", {"OTEL_TRACES_EXPORTER": "console"})

    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "profiles"
    assert provider.resource.attributes["service.namespace"] == "codeflow"
    assert isinstance(provider.sampler, OnlyWithinATrace)

    reset_trace_globals()
    provider.shutdown()
    environ = {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "profiles-eu"}
    assert configure_tracing("profiles", environ)
    renamed = trace.get_tracer_provider()
    assert isinstance(renamed, TracerProvider)
    assert renamed.resource.attributes["service.name"] == "profiles-eu"


def test_without_an_exporter_the_process_is_left_untraced(process_tracing: None) -> None:
    assert not configure_tracing("profiles", {})
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)


def test_a_lone_database_statement_is_not_traced_but_one_inside_a_request_is() -> None:
    sampler = OnlyWithinATrace(ALWAYS_ON)
    tracer = TracerProvider(sampler=sampler, shutdown_on_exit=False).get_tracer("test")

    lone = sampler.should_sample(None, TRACE_ID, "SELECT", SpanKind.CLIENT)
    with tracer.start_as_current_span("GET /profiles/me", kind=SpanKind.SERVER):
        inside = sampler.should_sample(None, TRACE_ID, "SELECT", SpanKind.CLIENT)
    server = sampler.should_sample(None, TRACE_ID, "GET /profiles/me", SpanKind.SERVER)

    assert lone.decision is Decision.DROP
    assert inside.decision is Decision.RECORD_AND_SAMPLE
    assert server.decision is Decision.RECORD_AND_SAMPLE


def test_with_tracing_off_a_request_runs_in_the_trace_its_caller_sent() -> None:
    client = traced_app()

    sent = client.get("/example/trace", headers={"traceparent": TRACEPARENT})
    not_sent = client.get("/example/trace")

    assert sent.json() == {"traceparent": TRACEPARENT}
    assert not_sent.json() == {"traceparent": None}


def test_with_tracing_on_a_request_is_a_server_span_continuing_the_callers_trace(
    recorded_spans: InMemorySpanExporter,
) -> None:
    client = traced_app()

    answered = client.get("/example/trace", headers={"traceparent": TRACEPARENT})
    client.get("/healthz")

    [server] = recorded_spans.get_finished_spans()
    assert server.kind is SpanKind.SERVER
    assert server.name == "GET /example/trace"
    assert server.context.trace_id == TRACE_ID
    assert server.parent is not None
    assert server.parent.span_id == SPAN_ID
    assert answered.json()["traceparent"].split("-")[2] == f"{server.context.span_id:016x}"


def kit_app() -> TestClient:
    """A service built by the kit, with one route answering with the current trace."""
    router = APIRouter(prefix="/example")

    @router.get("/trace")
    async def current() -> dict[str, str | None]:
        return {"traceparent": current_traceparent()}

    settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
    return TestClient(create_service_app(name="example", settings=settings, routers=[router]))


def test_every_service_continues_the_trace_its_caller_sent() -> None:
    answered = kit_app().get("/example/trace", headers={"traceparent": TRACEPARENT})

    assert answered.json() == {"traceparent": TRACEPARENT}


def test_every_service_traces_its_requests_when_the_process_traces(
    recorded_spans: InMemorySpanExporter,
) -> None:
    kit_app().get("/example/trace", headers={"traceparent": TRACEPARENT})

    [server] = recorded_spans.get_finished_spans()
    assert server.name == "GET /example/trace"
    assert server.context.trace_id == TRACE_ID


@pytest.fixture
def process_meters() -> Iterator[InMemoryMetricReader]:
    """An OpenTelemetry meter provider for the process, as a platform's agent may set one."""
    reset_metrics_globals()
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    metrics.set_meter_provider(provider)
    yield reader
    provider.shutdown()
    reset_metrics_globals()


def test_requests_are_measured_once_by_the_kit_not_again_by_fastapi(
    process_meters: InMemoryMetricReader,
) -> None:
    client = kit_app()

    client.get("/example/trace")

    assert process_meters.get_metrics_data() is None
    assert "http_requests_total" in client.get("/metrics").text


def test_a_traced_request_is_one_server_span_and_nothing_more(
    recorded_spans: InMemorySpanExporter,
) -> None:
    client = kit_app()

    client.get("/example/trace", headers={"traceparent": TRACEPARENT})
    client.get("/example/nowhere", headers={"traceparent": TRACEPARENT})

    spans = recorded_spans.get_finished_spans()
    assert [(span.kind, span.name) for span in spans] == [
        (SpanKind.SERVER, "GET /example/trace"),
        (SpanKind.SERVER, "GET"),
    ]
