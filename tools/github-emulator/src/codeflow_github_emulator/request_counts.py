"""How many REST requests each route answered, by status, so tests can see a 304 was used."""

from __future__ import annotations

import re

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codeflow_github_emulator.state import EmulatorState

_CONVERTOR = re.compile(r":\w+}")


class CountRequests:
    """ASGI middleware: counts every answered request to a GitHub route, not the admin API.

    The counts are keyed ``"GET /repositories/{repo_id}"`` and then by status code.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        statuses: list[int] = []

        async def noting_the_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await self.app(scope, receive, noting_the_status)
        route = scope.get("route")
        if statuses and isinstance(route, Route):
            state = scope["app"].state.emulator
            assert isinstance(state, EmulatorState)
            path = _CONVERTOR.sub("}", route.path)
            per_status = state.request_counts.setdefault(f"{scope['method']} {path}", {})
            key = str(statuses[0])
            per_status[key] = per_status.get(key, 0) + 1
