"""Traces with OpenTelemetry, exported only when the standard ``OTEL_*`` variables ask
(ADR 0027).

Off by default. ``OTEL_TRACES_EXPORTER=otlp`` (OTLP over HTTP/protobuf, to
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or ``console``
turns it on; ``none`` or ``OTEL_SDK_DISABLED=true`` keeps it off. The SDK reads the rest
itself: ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (the service's name is the
default), ``OTEL_TRACES_SAMPLER`` and its argument, ``OTEL_BSP_*`` for the batching, and
``OTEL_EXPORTER_OTLP_*`` for the endpoint, headers, timeout and compression.

When on, each service process has an SDK tracer provider with a batching exporter, its
FastAPI app makes a server span per request (continuing an incoming ``traceparent``, so a
trace begun before the gateway goes on here), its engine a span per SQL statement, and
:mod:`codeflow_messaging.tracing` the spans of the outbox and the consumers.

When off, no span is recorded, nothing is exported and no thread runs: a request that
brings a ``traceparent`` only has it made current (one header lookup), so what it writes to
the outbox, and its log lines, still carry the caller's trace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, cast

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.asgi import asgi_getter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_NAMESPACE, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("codeflow.tracing")

NOT_TRACED = ("/healthz", "/readyz", "/metrics")
"""Paths whose requests make no span: probes and scrapes, many times a minute."""

OTLP_PROTOCOL = "http/protobuf"

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own telemetry, off in every app: the kit traces requests with OpenTelemetry's
FastAPI instrumentation and measures them with Prometheus, and FastAPI's would measure each
request a second time wherever a meter provider is set. Off, it costs a request nothing;
on, it asked the global providers whether to record, on every request (ADR 0030)."""


class TracingConfigError(ValueError):
    """The ``OTEL_*`` variables ask for an exporter or protocol the services don't ship."""


def span_exporters(environ: Mapping[str, str] = os.environ) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (a comma-separated list); none unless it
    names one, or when ``OTEL_SDK_DISABLED`` is ``true``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "none").split(",")]
    return [_exporter(name, environ) for name in names if name and name != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        protocol = environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", OTLP_PROTOCOL),
        )
        if protocol != OTLP_PROTOCOL:
            raise TracingConfigError(
                f"OTLP protocol {protocol!r} is not shipped; use {OTLP_PROTOCOL!r}"
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise TracingConfigError(f"OTEL_TRACES_EXPORTER names {name!r}: use otlp, console or none")


class OnlyWithinATrace(Sampler):
    """Samples as ``delegate`` does, except a client span that begins a trace: a database
    statement outside any request or message (the outbox relay polls several times a
    second, periodic jobs query on a schedule) would otherwise be a trace of its own."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"OnlyWithinATrace{{{self.delegate.get_description()}}}"


def configure_tracing(service: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Make the process trace and export as the ``OTEL_*`` variables say; whether it does.

    The first call that finds an exporter sets the process's tracer provider; later calls
    (another app in the same process) and calls that find none change nothing.
    """
    if tracing_recorded():
        return True
    exporters = span_exporters(environ)
    if not exporters:
        return False
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAMESPACE: "codeflow"}).merge(
            # OTEL_SERVICE_NAME, when set, names the service instead.
            Resource({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or service})
        )
    )
    # The sampler the variables chose (parent-based, always on by default), kept from
    # tracing lone SQL statements; set before any tracer is made, as tracers copy it.
    provider.sampler = OnlyWithinATrace(provider.sampler)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logger.info("%s: exporting traces (%s)", service, environ.get("OTEL_TRACES_EXPORTER"))
    return True


def tracing_recorded() -> bool:
    """Whether this process records spans (an SDK tracer provider is set)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


class TraceContextMiddleware:
    """With tracing off: a request that carries a ``traceparent`` runs in that context, so the
    trace it belongs to reaches the outbox and the log lines. No span is made."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(
            name == b"traceparent" for name, _ in scope["headers"]
        ):
            await self.app(scope, receive, send)
            return
        # asgi_getter reads the scope's headers; its type says dict, a scope is a mapping.
        carrier = cast("dict[str, Any]", scope)
        token = context.attach(propagate.extract(carrier, getter=asgi_getter))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


def install_tracing(app: FastAPI, service: str) -> None:
    """Trace ``app``'s requests if the process traces (see :func:`configure_tracing`, called
    here), else only continue the callers' trace context."""
    if configure_tracing(service):
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=",".join(NOT_TRACED), exclude_spans=["receive", "send"]
        )
    else:
        app.add_middleware(TraceContextMiddleware)


def trace_engine(engine: AsyncEngine) -> Any:
    """A span per SQL statement ``engine`` runs, if the process traces; ``None`` otherwise."""
    if not tracing_recorded():
        return None
    name = "opentelemetry.instrumentation.sqlalchemy"
    connections = get_meter(name).create_up_down_counter("db.client.connections.usage")
    return EngineTracer(  # type: ignore[no-untyped-call]
        trace.get_tracer(name), engine.sync_engine, connections
    )
