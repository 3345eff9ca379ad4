"""``/<service>/asyncapi.json``: the service's Kafka side, generated from its FastStream broker."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request, Response
from faststream.specification import AsyncAPI

from codeflow_service.state import runtime_of


def install_asyncapi(app: FastAPI, name: str, *, version: str = "0.1.0") -> None:
    """Serve service ``name``'s AsyncAPI document from ``app``, as a route of its own."""

    @app.get(f"/{name}/asyncapi.json", tags=["documents"], include_in_schema=False)
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
