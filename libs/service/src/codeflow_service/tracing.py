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
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context, propagate, trace
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("codeflow.tracing")

NOT_TRACED = ("/healthz", "/readyz", "/metrics")
"""Paths whose requests make no span: probes and scrapes, many times a minute."""

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own telemetry, off in every app: the kit traces requests with OpenTelemetry's
FastAPI instrumentation and measures them with Prometheus, and FastAPI's would measure each
request a second time wherever a meter provider is set. Off, it costs a request nothing;
on, it asked the global providers whether to record, on every request (ADR 0030)."""


class TracingConfigError(ValueError):
    """The ``OTEL_*`` variables ask for an exporter or protocol the services don't ship."""


def exporter_names(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (a comma-separated list); none unless it
    names one, or when ``OTEL_SDK_DISABLED`` is ``true``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = (n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "none").split(","))
    return [name for name in names if name and name != "none"]


def configure_tracing(service: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Make the process trace and export as the ``OTEL_*`` variables say; whether it does.

    The first call that finds an exporter sets the process's tracer provider; later calls
    (another app in the same process) and calls that find none change nothing. The SDK is
    imported only then: a process that doesn't trace never loads it (about 6 MB).
    """
    if tracing_recorded():
        return True
    if not exporter_names(environ):
        return False
    from codeflow_service.tracing_sdk import export_traces

    export_traces(service, environ)
    return True


def tracing_recorded() -> bool:
    """Whether this process records spans (an SDK tracer provider is set)."""
    sdk = sys.modules.get("opentelemetry.sdk.trace")
    return sdk is not None and isinstance(trace.get_tracer_provider(), sdk.TracerProvider)


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
        carrier = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


def install_tracing(app: FastAPI, service: str) -> None:
    """Trace ``app``'s requests if the process traces (see :func:`configure_tracing`, called
    here), else only continue the callers' trace context."""
    if configure_tracing(service):
        from codeflow_service.tracing_sdk import trace_requests

        trace_requests(app)
    else:
        app.add_middleware(TraceContextMiddleware)


def trace_engine(engine: AsyncEngine) -> Any:
    """A span per SQL statement ``engine`` runs, if the process traces; ``None`` otherwise."""
    if not tracing_recorded():
        return None
    from codeflow_service.tracing_sdk import trace_statements

    return trace_statements(engine)
