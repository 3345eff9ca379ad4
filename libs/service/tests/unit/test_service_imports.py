"""What a service process loads: memory at idle is mostly the modules imported at start,
so what only tracing uses is imported only when the process traces."""

from __future__ import annotations

import os
import subprocess
import sys

BUILD_A_SERVICE = """
import sys
from fastapi import APIRouter
from codeflow_service.app import create_service_app
from codeflow_service.settings import ServiceSettings

settings = ServiceSettings(environment="test", database_url="postgresql://unused/x")
create_service_app(name="example", settings=settings, routers=[APIRouter()])
loaded = (
    name
    for name in sys.modules
    if name.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation"))
)
print(" ".join(sorted(loaded)))
"""


def loaded_by_a_service(environ: dict[str, str]) -> list[str]:
    """The tracing SDK's and instrumentations' modules a fresh process holds after building a
    service app under ``environ`` (on top of this one's, without any ``OTEL_*``)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    answered = subprocess.run(
        [sys.executable, "-c", BUILD_A_SERVICE],
        env={**env, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return answered.stdout.split()


def test_a_service_that_does_not_trace_loads_no_tracing_sdk_or_instrumentation() -> None:
    assert loaded_by_a_service({}) == []


def test_a_service_that_traces_loads_the_sdk_and_its_instrumentations() -> None:
    loaded = loaded_by_a_service({"OTEL_TRACES_EXPORTER": "console"})

    assert "opentelemetry.sdk.trace" in loaded
    assert "opentelemetry.instrumentation.fastapi" in loaded
