"""The services' uvicorn server at idle: it looks round once a second, not ten times, yet
still stops the moment it is asked to and keeps its ``date`` header current."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import uvicorn
from starlette.applications import Starlette

from codeflow_service.server import Server
from codeflow_testing.waiting import wait_until


class CountingServer(Server):
    def __init__(self) -> None:
        config = uvicorn.Config(Starlette(), log_config=None)
        config.load()
        super().__init__(config)
        self.ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        return await super().on_tick(counter)


def date_of(server: uvicorn.Server) -> bytes | None:
    return dict(server.server_state.default_headers).get(b"date")


async def test_an_idle_server_looks_round_once_a_second() -> None:
    server = CountingServer()
    loop_task = asyncio.create_task(server.main_loop())
    await asyncio.sleep(2.5)
    server.should_exit = True
    await asyncio.wait_for(loop_task, timeout=2)
    # uvicorn's own loop looks round every 0.1 s: 26 ticks in this time.
    assert 3 <= server.ticks <= 4


async def test_a_signal_to_stop_is_seen_at_once() -> None:
    server = CountingServer()
    loop_task = asyncio.create_task(server.main_loop())
    await asyncio.sleep(0.1)
    asked = time.monotonic()
    server.handle_exit(signal.SIGTERM, None)
    await asyncio.wait_for(loop_task, timeout=2)
    assert time.monotonic() - asked < 0.2


async def test_the_date_header_follows_the_clock() -> None:
    server = CountingServer()
    loop_task = asyncio.create_task(server.main_loop())
    try:
        await asyncio.sleep(0)
        first = date_of(server)
        assert first is not None

        async def moved_on() -> bool:
            return date_of(server) != first

        await wait_until(moved_on, timeout=3, what="the date header to change")
    finally:
        server.should_exit = True
        await asyncio.wait_for(loop_task, timeout=2)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_is_uvicorn_s_own(sig: signal.Signals) -> None:
    server = CountingServer()
    server.handle_exit(sig, None)
    assert server.should_exit
    assert not server.force_exit
