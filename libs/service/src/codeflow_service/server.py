"""The services' uvicorn server, quiet while nothing is asked of it (ADR 0035).

uvicorn's ``Server.main_loop`` looks round every 0.1 s: to refresh the ``date`` header
(once a second) and to see whether it was asked to stop. At idle those ten wake-ups a
second were a quarter of what a service spent. This server looks round once a second, which
keeps the header as current as uvicorn keeps it, and a signal to stop wakes it at once.
Everything else (start-up, shutdown, the header itself) is uvicorn's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from types import FrameType

import uvicorn

KEEP_ALIVE_SECONDS = 75
"""How long a service keeps an idle HTTP connection open: longer than any client of its keeps
one (the gateway's upstream connections 60 s, nginx's default; httpx 5 s), so the client
always closes first. A server closing a connection as a request arrives on it leaves that
request unanswered: httpx raises ``ReadError``, and nginx answers 502 to a request it may
not send twice. uvicorn's own default is 5 s."""

TICK_SECONDS = 1.0
"""How often an idle server looks round; uvicorn refreshes ``date`` at this pace too."""

STARTUP_FAILURE = 3
"""The exit status ``uvicorn.run`` gives when the app never started."""

TICKS_PER_SECOND = 10
"""uvicorn's ``on_tick`` refreshes the headers on every tenth tick of its own."""


class Server(uvicorn.Server):
    """``uvicorn.Server``, looking round once a second instead of ten times."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop_asked: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_asked = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # Counted in uvicorn's tenths, so that every tick refreshes the headers.
            counter = (counter + TICKS_PER_SECOND) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_asked.wait(), TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._stop_asked is not None:
            # A signal handler runs between bytecodes; waking the loop is all it may do.
            self._loop.call_soon_threadsafe(self._stop_asked.set)


def run_server(config: uvicorn.Config) -> None:
    """Run ``config``'s app until a signal stops it; exit 3, as ``uvicorn.run`` does, if it
    never started."""
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
