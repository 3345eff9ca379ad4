"""The OpenTelemetry SDK's side of tracing (ADR 0027): the exporters, the sampler, the
tracer provider and the instrumentations. Imported only by a process that exports traces,
so one that doesn't never loads them (:mod:`codeflow_service.tracing`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry import context, trace
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

from codeflow_service.tracing import NOT_TRACED, TracingConfigError, exporter_names

logger = logging.getLogger("codeflow.tracing")

OTLP_PROTOCOL = "http/protobuf"


def span_exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    """An exporter for each name ``OTEL_TRACES_EXPORTER`` gives (see :func:`exporter_names`)."""
    return [_exporter(name, environ) for name in exporter_names(environ)]


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


def export_traces(service: str, environ: Mapping[str, str]) -> None:
    """Set the process's tracer provider, exporting to what the variables name."""
    exporters = span_exporters(environ)
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


def trace_requests(app: FastAPI) -> None:
    """A server span per request to ``app``, continuing the caller's trace."""
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=",".join(NOT_TRACED), exclude_spans=["receive", "send"]
    )


def trace_statements(engine: AsyncEngine) -> Any:
    """A span per SQL statement ``engine`` runs."""
    name = "opentelemetry.instrumentation.sqlalchemy"
    connections = get_meter(name).create_up_down_counter("db.client.connections.usage")
    return EngineTracer(  # type: ignore[no-untyped-call]
        trace.get_tracer(name), engine.sync_engine, connections
    )
