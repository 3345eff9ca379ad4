"""The in-process timing of a route: every floor app answers /healthz without a server."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from codeflow_bench.asgi_timing import floor_apps, time_requests


def test_every_floor_app_answers_its_health_check_in_process() -> None:
    for make in floor_apps().values():
        timing = asyncio.run(time_requests(make(), "/healthz", iterations=3))
        assert timing.wall_us > 0
        assert timing.cpu_us >= 0


def test_a_route_that_does_not_answer_200_is_not_timed() -> None:
    app = Starlette(routes=[Route("/healthz", lambda request: Response(status_code=503))])

    with pytest.raises(RuntimeError, match="503"):
        asyncio.run(time_requests(app, "/healthz", iterations=3))
