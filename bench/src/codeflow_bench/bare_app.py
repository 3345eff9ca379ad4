"""B1's first baseline: a bare ASGI endpoint (Starlette, raw asyncpg) serving the dashboard SQL.

No auth, no ORM, no validation: the caller names the user in ``X-User-Id``. Served by uvicorn
exactly as the services are (``python -m uvicorn codeflow_bench.bare_app:create_app
--factory``); the database is ``BENCH_DATABASE_URL``, the SQL ``BENCH_DASHBOARD_SQL``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_LIMIT = 50


def create_app() -> Starlette:
    database_url = os.environ["BENCH_DATABASE_URL"]
    sql = os.environ["BENCH_DASHBOARD_SQL"]
    pool: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The services' pool: 10 connections, 10 more under load.
        pool["pool"] = await asyncpg.create_pool(database_url, min_size=10, max_size=20)
        try:
            yield
        finally:
            await pool["pool"].close()

    async def repositories(request: Request) -> Response:
        user_id = request.headers.get("x-user-id")
        if not user_id:
            return Response(status_code=401)
        rows = await pool["pool"].fetch(sql, user_id, PAGE_LIMIT + 1)
        # Every column the service's statement selects, as the service answers it.
        items = [{key: _json(value) for key, value in row.items()} for row in rows[:PAGE_LIMIT]]
        body = json.dumps({"items": items, "next_cursor": None}, separators=(",", ":"))
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response('{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[Route("/repositories", repositories), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


def _json(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
