"""JWTs signed the way auth signs them, with the JWKS that verifies them served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from codeflow_identity import KeySet, TokenIssuer, generate_signing_key, service_audience
from codeflow_testing.asgi import serve

ISSUER = "http://127.0.0.1:8080/auth"


class TestTokens:
    """Signs JWTs the way auth does for ``service``, and serves the JWKS that verifies them."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, *, service: str, issuer: str = ISSUER) -> None:
        self.keyset = KeySet(generate_signing_key())
        self.issuer = TokenIssuer(self.keyset, issuer, service_audience(service))
        self.jwks_url = ""

    def token_for(self, user_id: str, *, service: str | None = None, **claims: Any) -> str:
        """A token for ``user_id``, for this service unless ``service`` names another."""
        audience = service_audience(service) if service else None
        return self.issuer.issue(user_id, extra_claims=claims, audience=audience)

    def headers_for(
        self, user_id: str, *, service: str | None = None, **claims: Any
    ) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token_for(user_id, service=service, **claims)}"}

    def jwks_app(self) -> Starlette:
        async def jwks(request: Request) -> JSONResponse:
            return JSONResponse(self.keyset.jwks())

        return Starlette(routes=[Route("/auth/.well-known/jwks.json", jwks)])

    @asynccontextmanager
    async def served(self) -> AsyncIterator[TestTokens]:
        """Serve the JWKS on loopback; ``jwks_url`` is set while the block runs."""
        async with serve(self.jwks_app()) as base_url:
            self.jwks_url = f"{base_url}/auth/.well-known/jwks.json"
            yield self
