"""``LOG_FORMAT=json``: the janitor started as it is deployed (``python -m codeflow_janitor
serve``) writes JSON lines, and what it logs while answering a request carries the id the
request came with (``X-Request-ID``), which the response echoes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from codeflow_testing.asgi import reserve_port
from codeflow_testing.tokens import TestTokens

pytestmark = pytest.mark.integration


@pytest.fixture
def stdout_path(tmp_path: Path) -> Path:
    """Where the janitor's standard output goes: nothing should."""
    return tmp_path / "janitor.stdout"


@pytest.fixture
async def janitor_process(
    janitor_database_url: str, kafka_bootstrap_servers: str, tokens: TestTokens, stdout_path: Path
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """The janitor's own process on a free loopback port, logging JSON to its stderr."""
    with reserve_port() as sock:
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "CODEFLOW_ENV": "test",
        "LOG_FORMAT": "json",
        "JANITOR_DATABASE_URL": janitor_database_url,
        "JANITOR_CONSUMER_GROUP": f"janitor-logs-{uuid.uuid4().hex}",
        "JANITOR_SWEEP_INTERVAL": "0",
        # The user events it reads from the start are shared with every other test: none of
        # their users may look inactive, or the sweep below is refused (or deletes them).
        "JANITOR_INACTIVE_AFTER": "36500d",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "CODEFLOW_JWKS_URL": tokens.jwks_url,
        "CODEFLOW_JWT_ISSUER": tokens.issuer.issuer,
    }
    with stdout_path.open("wb") as stdout:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "codeflow_janitor", "serve", "--port", str(port)),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=asyncio.subprocess.PIPE,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client, asyncio.timeout(60):
            while True:
                assert process.returncode is None, "the janitor stopped before it was ready"
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        yield url, process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=30)


async def json_lines_until(process: asyncio.subprocess.Process, found: Any) -> list[dict[str, Any]]:
    """The process's stderr as JSON objects, read until one satisfies ``found``."""
    assert process.stderr is not None
    lines: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not any(found(line) for line in lines):
            raw = await process.stderr.readline()
            assert raw, f"the janitor's log ended; it wrote {lines}"
            lines.append(json.loads(raw))
    return lines


async def test_a_request_s_id_is_in_the_json_lines_the_service_writes_and_echoed(
    janitor_process: tuple[str, asyncio.subprocess.Process], tokens: TestTokens
) -> None:
    url, process = janitor_process
    request_id = f"logs-{uuid.uuid4().hex}"

    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/janitor/sweeps",
            json={},
            headers={
                **tokens.headers_for("admin-1", admin=True, login="the-admin"),
                "X-Request-ID": request_id,
            },
        )

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == request_id
    lines = await json_lines_until(process, lambda line: line.get("request_id") == request_id)
    [started] = [line for line in lines if line["message"] == "janitor service started (test)"]
    assert started["service"] == "janitor"
    assert started["request_id"] is None
    [during] = [line for line in lines if line.get("request_id") == request_id]
    assert during["service"] == "janitor"
    assert {"time", "level", "logger", "message"} <= set(during)


async def test_every_line_the_service_writes_while_consuming_is_json_on_stderr(
    janitor_process: tuple[str, asyncio.subprocess.Process], stdout_path: Path
) -> None:
    # Its consumers read the shared user events from the start, and the messaging library
    # logs on their behalf too (FastStream's own lines, Kafka's errors): all of it must
    # reach the collector as JSON, none as text on stdout.
    _, process = janitor_process
    process.terminate()
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert any(line["message"] == "janitor service stopped" for line in lines)
    assert all(line["service"] == "janitor" for line in lines)
    assert await anyio.Path(stdout_path).read_text() == ""
