"""The trace context across the outbox and Kafka: into the envelope, onto the record, and out
of it into the consumer's span."""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import context, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from codeflow_contracts import Envelope, UserCreated, new_envelope
from codeflow_contracts.topics import USER_EVENTS
from codeflow_messaging.kafka import record_headers
from codeflow_messaging.tracing import current_traceparent, processing, writing_to_outbox

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def user_created(traceparent: str | None = None) -> Envelope[UserCreated]:
    message = UserCreated(
        user_id="clq7z3x0k0000l308f3m9b2qa",
        github_id=583231,
        login="octocat",
        created_at=datetime(2026, 12, 6, tzinfo=UTC),
    )
    return new_envelope(message, source="codeflow/auth", traceparent=traceparent)


def traceparent_of(span_context: SpanContext) -> str:
    ids = f"{span_context.trace_id:032x}-{span_context.span_id:016x}"
    return f"00-{ids}-{span_context.trace_flags:02x}"


def test_an_envelope_written_in_a_span_carries_the_outbox_write_span_as_its_traceparent(
    recorded_spans: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /auth/callback") as request,
        writing_to_outbox([user_created()]) as (written,),
    ):
        pass

    spans = {span.name: span for span in recorded_spans.get_finished_spans()}
    create = spans[f"create {USER_EVENTS}"]
    assert create.kind is SpanKind.PRODUCER
    assert create.parent is not None
    assert create.parent.span_id == request.get_span_context().span_id
    assert written.traceparent == traceparent_of(create.context)


def test_an_envelope_that_already_carries_a_trace_keeps_it(
    recorded_spans: InMemorySpanExporter,
) -> None:
    with writing_to_outbox([user_created(TRACEPARENT)]) as (written,):
        pass

    assert written.traceparent == TRACEPARENT


def test_without_tracing_an_envelope_carries_the_callers_context_unchanged() -> None:
    caller = SpanContext(TRACE_ID, SPAN_ID, is_remote=True, trace_flags=TraceFlags(1))
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(caller)))
    try:
        with writing_to_outbox([user_created()]) as (written,):
            pass
    finally:
        context.detach(token)

    assert written.traceparent == TRACEPARENT


def test_without_tracing_or_a_caller_an_envelope_carries_no_trace() -> None:
    with writing_to_outbox([user_created()]) as (written,):
        pass

    assert written.traceparent is None


def test_the_kafka_record_carries_the_traceparent_header_beside_its_content_type() -> None:
    assert record_headers(TRACEPARENT.encode()) == [
        ("content-type", b"application/cloudevents+json"),
        ("traceparent", TRACEPARENT.encode()),
    ]
    assert record_headers(None) == [("content-type", b"application/cloudevents+json")]


def test_the_consumers_span_is_a_child_of_the_span_that_wrote_the_message(
    recorded_spans: InMemorySpanExporter,
) -> None:
    with processing("profiles", [(USER_EVENTS, user_created(TRACEPARENT))]):
        current = trace.get_current_span().get_span_context()

    [span] = recorded_spans.get_finished_spans()
    assert span.name == f"process {USER_EVENTS}"
    assert span.kind is SpanKind.CONSUMER
    assert span.context.trace_id == TRACE_ID
    assert span.parent is not None
    assert span.parent.span_id == SPAN_ID
    assert current == span.context  # what the handler does is traced inside it
    assert span.attributes is not None
    assert span.attributes["messaging.consumer.group.name"] == "profiles"
    assert span.attributes["cloudevents.event_type"] == "codeflow.user.created.v1"


def processed_batch(
    recorded_spans: InMemorySpanExporter, *traceparents: str
) -> tuple[list[ReadableSpan], ReadableSpan, SpanContext]:
    """Process a batch of messages written in ``traceparents``: the messages' spans, the
    batch's span, and what was current while it was applied."""
    batch = [(USER_EVENTS, user_created(traceparent)) for traceparent in traceparents]
    with processing("profiles", batch):
        current = trace.get_current_span().get_span_context()
    spans = recorded_spans.get_finished_spans()
    [whole] = [s for s in spans if s.name == "process profiles"]
    return [s for s in spans if s.name == f"process {USER_EVENTS}"], whole, current


def test_a_batch_continues_each_messages_trace_and_its_own_span_links_them_all(
    recorded_spans: InMemorySpanExporter,
) -> None:
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    messages, whole, current = processed_batch(recorded_spans, TRACEPARENT, other)

    parents = sorted(traceparent_of(s.parent) for s in messages if s.parent)
    assert parents == sorted([TRACEPARENT, other])
    assert {link.context.span_id for link in whole.links} == {s.context.span_id for s in messages}
    assert whole.parent is None
    assert whole.attributes is not None
    assert whole.attributes["messaging.batch.message_count"] == 2
    assert current == whole.context


def test_a_message_written_outside_any_trace_starts_one_in_the_consumer(
    recorded_spans: InMemorySpanExporter,
) -> None:
    with processing("profiles", [(USER_EVENTS, user_created())]):
        pass

    [span] = recorded_spans.get_finished_spans()
    assert span.parent is None


def test_a_batch_whose_messages_come_from_one_trace_is_processed_in_that_trace(
    recorded_spans: InMemorySpanExporter,
) -> None:
    later = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"

    messages, whole, _ = processed_batch(recorded_spans, TRACEPARENT, later)

    [first] = [s for s in messages if s.parent and s.parent.span_id == SPAN_ID]
    assert whole.context.trace_id == TRACE_ID
    assert whole.parent is not None
    assert whole.parent.span_id == first.context.span_id
    assert len(whole.links) == 2


def test_without_tracing_a_message_is_applied_in_the_context_it_was_written_in() -> None:
    with processing("profiles", [(USER_EVENTS, user_created(TRACEPARENT))]):
        inside = current_traceparent()

    assert inside == TRACEPARENT
    assert current_traceparent() is None


def test_without_tracing_a_batch_from_one_trace_is_applied_in_its_first_messages_context() -> None:
    later = "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
    batch = [(USER_EVENTS, user_created(TRACEPARENT)), (USER_EVENTS, user_created(later))]

    with processing("profiles", batch):
        inside = current_traceparent()

    assert inside == TRACEPARENT


def test_without_tracing_a_batch_from_several_traces_or_none_is_applied_outside_any() -> None:
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    mixed = [(USER_EVENTS, user_created(TRACEPARENT)), (USER_EVENTS, user_created(other))]
    untraced = [(USER_EVENTS, user_created())]

    for batch in (mixed, untraced):
        with processing("profiles", batch):
            inside = current_traceparent()
        assert inside is None
