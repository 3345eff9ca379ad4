"""``/<service>/asyncapi.json``: the service's Kafka side, generated from its FastStream broker."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from faststream.specification import AsyncAPI

from codeflow_service.state import runtime_of


def asyncapi_router(name: str, *, version: str = "0.1.0") -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.get(f"/{name}/asyncapi.json", include_in_schema=False)
    async def asyncapi(request: Request) -> Response:
        """The AsyncAPI 3.0 document: what the service consumes and publishes, and their shape."""
        spec = AsyncAPI(
            runtime_of(request).broker,
            title=f"CodeFlow {name}",
            version=version,
            description=f"Kafka messages consumed and published by the {name} service.",
            schema_version="3.0.0",
        ).to_specification()
        body = json.dumps(json.loads(spec.to_json()), separators=(",", ":"))
        return Response(body, media_type="application/json")

    return router
