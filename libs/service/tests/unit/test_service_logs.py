"""Logs an operator can search: ``LOG_FORMAT=json`` writes one JSON object a line (time,
level, service, logger, message, the request's id, the exception, ``extra`` fields),
``text`` (the default) stays as it was, and anything else is refused at start."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asgi_correlation_id.context import correlation_id
from fastapi import APIRouter
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codeflow_service.app import create_service_app
from codeflow_service.cli import service_main
from codeflow_service.logs import log_handler
from codeflow_service.settings import ServiceSettings


def logged(handler: logging.Handler, stream: io.StringIO, emit: Any) -> str:
    """What ``handler`` wrote to ``stream`` while ``emit(logger)`` ran."""
    logger = logging.getLogger("codeflow.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def json_lines(emit: Any) -> list[dict[str, Any]]:
    stream = io.StringIO()
    text = logged(log_handler("example", "json", stream), stream, emit)
    return [json.loads(line) for line in text.splitlines()]


def test_a_json_line_carries_time_level_service_logger_message_and_extra_fields() -> None:
    [line] = json_lines(lambda log: log.warning("%d left", 3, extra={"message_id": "m-1"}))

    assert line["level"] == "WARNING"
    assert line["service"] == "example"
    assert line["logger"] == "codeflow.test.logs"
    assert line["message"] == "3 left"
    assert line["message_id"] == "m-1"
    assert line["request_id"] is None
    time = datetime.fromisoformat(line["time"])
    assert time.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - time).total_seconds()) < 60


def test_uvicorn_s_colored_copy_of_its_message_is_left_out() -> None:
    [line] = json_lines(lambda log: log.info("started", extra={"color_message": "\x1b[36m"}))
    assert "color_message" not in line


def test_a_json_line_renders_the_exception() -> None:
    def fail(log: logging.Logger) -> None:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("it failed")

    [line] = json_lines(fail)
    assert line["message"] == "it failed"
    assert "RuntimeError: boom" in line["exc_info"]
    assert "Traceback" in line["exc_info"]


def test_text_stays_as_it_was() -> None:
    stream = io.StringIO()
    text = logged(log_handler("example", "text", stream), stream, lambda log: log.info("hello"))
    assert text.endswith(" INFO codeflow.test.logs hello\n")
    datetime.strptime(text[:23], "%Y-%m-%d %H:%M:%S,%f")


@pytest.mark.parametrize("value", ["JSON", "yaml", ""])
def test_any_other_log_format_is_refused_at_start_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", value)
    with pytest.raises(SystemExit) as refused:
        service_main(name="example", default_port=1, alembic_ini=Path("none"), argv=["migrate"])
    assert refused.value.code != 0
    message = capsys.readouterr().err
    assert "LOG_FORMAT" in message
    assert "text" in message
    assert "json" in message


def test_a_request_s_id_is_echoed_and_in_the_json_lines_logged_while_it_runs() -> None:
    router = APIRouter()

    @router.get("/example/hello")
    def hello() -> dict[str, str]:
        logging.getLogger("codeflow.test.logs").warning("saying hello")
        return {"hello": "world"}

    settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
    client = TestClient(create_service_app(name="example", settings=settings, routers=[router]))

    def call(log: logging.Logger) -> None:
        response = client.get("/example/hello", headers={"X-Request-ID": "req-42"})
        assert response.headers["X-Request-ID"] == "req-42"

    lines = json_lines(call)
    assert [(line["message"], line["request_id"]) for line in lines] == [("saying hello", "req-42")]

    without = client.get("/example/hello")
    assert without.headers["X-Request-ID"]


def test_a_json_line_names_the_trace_and_span_it_was_written_in(
    recorded_spans: InMemorySpanExporter,
) -> None:
    with trace.get_tracer("test").start_as_current_span("GET /profiles/me") as span:
        [inside] = json_lines(lambda log: log.info("answered"))
    [outside] = json_lines(lambda log: log.info("idle"))

    assert inside["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert inside["span_id"] == f"{span.get_span_context().span_id:016x}"
    assert outside["trace_id"] is None
    assert outside["span_id"] is None


def example_app() -> Any:
    router = APIRouter(prefix="/example")

    @router.get("/hello")
    async def hello() -> dict[str, str | None]:
        logging.getLogger("codeflow.test.logs").warning("saying hello")
        return {"request_id": correlation_id.get()}

    settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
    return create_service_app(name="example", settings=settings, routers=[router])


def test_a_request_without_an_id_gets_a_new_one_for_its_lines_and_its_answer() -> None:
    client = TestClient(example_app())

    first = client.get("/example/hello")
    second = client.get("/example/hello")

    assert re.fullmatch("[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert first.json() == {"request_id": first.headers["X-Request-ID"]}
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_an_answer_carries_the_request_s_id_once_even_when_it_is_a_problem() -> None:
    client = TestClient(example_app())

    missing = client.get("/example/nowhere", headers={"X-Request-ID": "req-7"})

    assert missing.status_code == 404
    assert missing.headers.get_list("X-Request-ID") == ["req-7"]


def test_the_request_s_id_is_forgotten_once_it_is_answered() -> None:
    app = example_app()

    async def one_request() -> str | None:
        scope = {"type": "http", "method": "GET", "path": "/example/hello", "raw_path": b"",
                 "root_path": "", "query_string": b"", "scheme": "http", "server": None,
                 "client": None, "http_version": "1.1", "state": {},
                 "headers": [(b"x-request-id", b"req-8")]}  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            pass

        await app(scope, receive, send)
        return correlation_id.get()

    assert asyncio.run(one_request()) is None
