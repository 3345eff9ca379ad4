"""``/healthz`` (the process answers) and ``/readyz`` (its database and Kafka answer).

``/readyz`` checks the database and the broker of the service's runtime.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from codeflow_service.state import runtime_of

READY_TIMEOUT = 2.0


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"], include_in_schema=False)

    @router.get("/healthz")
    async def alive() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def ready(request: Request) -> JSONResponse:
        runtime = runtime_of(request)
        checks = {
            "database": await _database_ready(runtime.engine),
            "kafka": await _kafka_ready(runtime.broker),
        }
        status = 200 if all(checks.values()) else 503
        body = {name: "ok" if up else "unavailable" for name, up in checks.items()}
        return JSONResponse({"status": "ok" if status == 200 else "unavailable", **body}, status)

    return router


async def _database_ready(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _kafka_ready(broker: KafkaBroker) -> bool:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            return await broker.ping(timeout=READY_TIMEOUT)
    except Exception:
        return False
