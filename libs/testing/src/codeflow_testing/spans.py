"""Spans recorded in memory, for tests of what is traced: ``recorded_spans``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.test.globals_test import reset_trace_globals


@pytest.fixture
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Every span ended during the test, kept in memory.

    For the test's length the process traces with the SDK, as a service configured to
    export does (apps and engines made in the test are instrumented); the process is left
    untraced again afterwards.
    """
    reset_trace_globals()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        reset_trace_globals()
