"""The trace context across the outbox and Kafka (ADR 0027).

- Writing: :func:`writing_to_outbox` wraps the write in a ``create <topic>`` span (a
  PRODUCER) and gives each envelope that carries no trace yet that span's W3C
  ``traceparent``, CloudEvents' distributed tracing extension. The row keeps it with the
  message, so it survives the wait in the outbox, a re-send and a dead letter's replay.
- Publishing: the relay copies it onto the Kafka record as a ``traceparent`` header
  (:func:`codeflow_messaging.kafka.record_headers`), for whatever reads records without
  parsing them.
- Consuming: :func:`processing` continues each message's trace in a ``process <topic>``
  span (a CONSUMER), the child of the span that wrote it. A batch of several messages is
  applied in one transaction, so its work is traced in one more span, ``process <group>``,
  which links to every message's span: a span has one parent, and a batch has many (when
  they all come from one trace, it stays in that trace).

Only the OpenTelemetry API is used. With no tracer provider set, nothing is recorded and no
span is made: a caller's context (a ``traceparent`` the gateway passed on) still goes into
the envelope unchanged, and a consumed message is applied in the context it was written in,
so what it writes and logs stays in its trace. (Making the spans anyway, each to be thrown
away, cost about 19 µs per consumed message.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from codeflow_contracts import Envelope

TRACEPARENT = "traceparent"
"""The W3C header, and the CloudEvents extension attribute, that carry a trace context."""

_W3C = TraceContextTextMapPropagator()
_KAFKA = {"messaging.system": "kafka"}


def _tracer() -> Tracer:
    # Looked up at each use, not kept: tests install and remove tracer providers.
    return trace.get_tracer("codeflow_messaging")


def _recording() -> bool:
    """Whether spans made now could be recorded: a tracer provider has been set."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def current_traceparent() -> str | None:
    """The current span's context as a W3C ``traceparent``; None outside any trace."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def _destination(envelopes: Sequence[Envelope[Any]]) -> str:
    return ",".join(sorted({type(e.data).topic for e in envelopes}))


@contextmanager
def writing_to_outbox(envelopes: Sequence[Envelope[Any]]) -> Iterator[list[Envelope[Any]]]:
    """Inside a ``create <topic>`` span, ``envelopes`` with its ``traceparent`` (one that
    carries a trace already keeps it), to be written to the outbox in the block."""
    if not _recording():
        yield _carrying(envelopes, current_traceparent())
        return
    destination = _destination(envelopes)
    attributes: Attributes = {
        **_KAFKA,
        "messaging.operation.type": "create",
        "messaging.destination.name": destination,
        "messaging.batch.message_count": len(envelopes),
    }
    with _tracer().start_as_current_span(
        f"create {destination}", kind=SpanKind.PRODUCER, attributes=attributes
    ):
        yield _carrying(envelopes, current_traceparent())


def _carrying(envelopes: Sequence[Envelope[Any]], traceparent: str | None) -> list[Envelope[Any]]:
    """``envelopes``, each that carries no trace yet given ``traceparent``."""
    return [
        e
        if e.traceparent is not None or traceparent is None
        # Frozen and already validated; only the trace is added.
        else e.model_copy(update={"traceparent": traceparent})
        for e in envelopes
    ]


def _written_in(envelope: Envelope[Any]) -> Context:
    """The context the message was written in; an empty one (a new trace) if none."""
    if envelope.traceparent is None:
        return Context()
    return _W3C.extract({TRACEPARENT: envelope.traceparent}, context=Context())


def _message_span(tracer: Tracer, group_id: str, topic: str, envelope: Envelope[Any]) -> Span:
    return tracer.start_span(
        f"process {topic}",
        context=_written_in(envelope),
        kind=SpanKind.CONSUMER,
        attributes={
            **_KAFKA,
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": group_id,
            "messaging.message.id": str(envelope.id),
            "cloudevents.event_id": str(envelope.id),
            "cloudevents.event_type": envelope.type,
            "cloudevents.event_source": envelope.source,
        },
    )


def _one_trace(spans: Sequence[Span]) -> bool:
    """Whether ``spans`` all belong to the first one's trace."""
    first = spans[0].get_span_context().trace_id
    return all(span.get_span_context().trace_id == first for span in spans)


@contextmanager
def _written_context(envelopes: Iterable[Envelope[Any]]) -> Iterator[None]:
    """What :func:`processing` makes current when nothing is recorded: the context the
    messages were written in when they share one trace (the first one's), else none."""
    contexts = [_written_in(envelope) for envelope in envelopes]
    one_trace = _one_trace([trace.get_current_span(c) for c in contexts])
    token = context.attach(contexts[0] if one_trace else Context())
    try:
        yield
    finally:
        context.detach(token)


@contextmanager
def processing(group_id: str, messages: Sequence[tuple[str, Envelope[Any]]]) -> Iterator[None]:
    """Trace applying ``messages`` (each with the topic it came from) inside the block.

    Each message's span continues the trace it was written in. With one message, that span
    is current in the block; with several, a ``process <group_id>`` span linked to each of
    theirs is: in their trace when they all come from one (a sign-in's ``UserCreated`` and
    ``UserActive``, say), under the first one's span; else at the root of a trace of its own.
    """
    if not _recording():
        with _written_context(envelope for _, envelope in messages):
            yield
        return
    tracer = _tracer()
    with ExitStack() as spans:
        each = [
            spans.enter_context(
                trace.use_span(_message_span(tracer, group_id, topic, envelope), end_on_exit=True)
            )
            for topic, envelope in messages
        ]
        if len(each) == 1:
            yield
            return
        in_trace = trace.set_span_in_context(each[0], Context()) if _one_trace(each) else Context()
        batch = tracer.start_span(
            f"process {group_id}",
            context=in_trace,
            kind=SpanKind.CONSUMER,
            links=[Link(span.get_span_context()) for span in each],
            attributes={
                **_KAFKA,
                "messaging.operation.type": "process",
                "messaging.consumer.group.name": group_id,
                "messaging.batch.message_count": len(each),
            },
        )
        with trace.use_span(batch, end_on_exit=True):
            yield
