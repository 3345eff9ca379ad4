"""The framework floor's middle point: a plain ``FastAPI()`` with the same ``/healthz``.

Nothing of the kit (no middleware, problem handlers, metrics or docs), so between this and
the bare Starlette app (``bare_app``) lies FastAPI's own cost per request, and between this
and the service lies ours. Served by uvicorn exactly as the services and the bare app are
(``python -m uvicorn codeflow_bench.plain_fastapi_app:create_app --factory``).
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
