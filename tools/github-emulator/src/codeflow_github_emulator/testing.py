"""Small helpers for tests that drive the emulator (here and in other packages)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from codeflow_github_emulator.defaults import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    MONALISA_ID,
    OCTO_ORG_ID,
    OCTOCAT_ID,
    PRIVATE_PERSON_ID,
    UNVERIFIED_ID,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BAD_CREDENTIALS",
    "CALLBACK",
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "MONALISA_ID",
    "OCTOCAT_ID",
    "OCTO_ORG_ID",
    "PRIVATE_PERSON_ID",
    "UNVERIFIED_ID",
    "Authorize",
    "SignIn",
    "bearer",
    "open_authorize",
    "redirect_query",
    "register_app",
    "request_token",
    "s256_challenge",
]

BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}
"""GitHub's whole answer to a revoked, expired or unknown token."""

CALLBACK = "http://127.0.0.1:8000/auth/callback/github"
"""A callback the development app accepts (a loopback host, any port and path), as auth's is."""

Authorize = Callable[..., Awaitable[str]]
"""Runs the browser half for a user and returns the code the callback received."""

SignIn = Callable[..., Awaitable[str]]
"""Runs the whole sign-in for a user and returns an access token."""


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header that sends a token to the REST API."""
    return {"Authorization": f"Bearer {token}"}


def s256_challenge(verifier: str) -> str:
    """The PKCE ``code_challenge`` of a verifier: base64url of its SHA-256, unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_query(location: str) -> dict[str, str]:
    """The query parameters of a redirect's ``Location``, one value per name."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def open_authorize(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    """Open the authorize page as a browser would: a GET with ``params`` in the query, for the
    development app unless ``client_id`` names another."""
    return await client.get("/login/oauth/authorize", params={"client_id": DEV_CLIENT_ID} | params)


async def request_token(
    client: httpx.AsyncClient, *, accept: str | None = "application/json", **fields: str
) -> httpx.Response:
    """Ask the token endpoint as an app's server does: a form POST of ``fields`` with the
    development app's credentials (unless ``client_id`` and ``client_secret`` name others),
    asking for ``accept`` (``None``: GitHub's form-encoded default)."""
    data = {"client_id": DEV_CLIENT_ID, "client_secret": DEV_CLIENT_SECRET} | fields
    headers = {} if accept is None else {"Accept": accept}
    return await client.post("/login/oauth/access_token", data=data, headers=headers)


async def register_app(
    client: httpx.AsyncClient,
    client_id: str,
    client_secret: str,
    *,
    callback_urls: tuple[str, ...] = ("http://127.0.0.1/",),
    **options: Any,
) -> httpx.Response:
    """Register (or replace) an OAuth app through the admin API; ``options`` as it takes them
    (``expire_user_tokens``, ...)."""
    app = {"client_id": client_id, "client_secret": client_secret, "callback_urls": callback_urls}
    return await client.post("/_emulator/apps", json=app | options)
