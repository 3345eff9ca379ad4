"""The auth service's ASGI app: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from codeflow_auth.config import AuthSettings
from codeflow_auth.consumers import consumers
from codeflow_auth.deletion import ActivityEvidence
from codeflow_auth.events import PUBLISHES
from codeflow_auth.github_access.client import GitHubApi
from codeflow_auth.github_access.router import router as github_access_router
from codeflow_auth.github_access.service import GitHubAccess
from codeflow_auth.problems import PROBLEMS
from codeflow_auth.revocation import GrantRevoker
from codeflow_auth.sessions.cookies import SessionCookie
from codeflow_auth.sessions.lifetimes import SessionPolicy
from codeflow_auth.sessions.router import router as sessions_router
from codeflow_auth.signin.github import GitHub
from codeflow_auth.signin.router import router as signin_router
from codeflow_auth.signin.state import StateCookie
from codeflow_auth.state import AuthState
from codeflow_auth.token_cipher import TokenCipher
from codeflow_identity.keys import KeySet, PublicKey, SigningKey, generate_signing_key
from codeflow_identity.tokens import TokenIssuer, service_audience
from codeflow_service import OwnState, create_service_app
from codeflow_service.state import Runtime

logger = logging.getLogger("codeflow.auth")


@dataclass(frozen=True)
class GitHubClients:
    """Auth's clients of GitHub's API, made before anything else starts and closed last."""

    revoker: GrantRevoker
    api: GitHubApi
    github: GitHub


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    """The auth service. Settings come from the environment unless given."""
    settings = settings or AuthSettings()
    settings.check_secrets()
    cipher = token_cipher(settings)

    @asynccontextmanager
    async def github_clients() -> AsyncIterator[GitHubClients]:
        # The deletion consumers revoke grants too, so the revoker exists before them.
        revoker = GrantRevoker.from_settings(settings, cipher)
        api = GitHubApi(settings.github_api_base_url)
        github = GitHub(settings)
        logger.info("auth's public URL is %s", settings.public_url)
        try:
            yield GitHubClients(revoker, api, github)
        finally:
            await github.aclose()
            await api.aclose()
            await revoker.aclose()

    return create_service_app(
        name="auth",
        settings=settings,
        routers=[signin_router, sessions_router, github_access_router],
        publishes=PUBLISHES,
        problems=PROBLEMS,
        description="GitHub sign-in, sessions, and the gateway's verify endpoint.",
        own_state=OwnState(
            make=github_clients,
            consumers=lambda sessions, group_id, clients: consumers(
                sessions,
                group_id,
                evidence=ActivityEvidence(settings.activity_interval),
                revoker=clients.revoker,
            ),
            state=lambda kit, clients: build_state(settings, kit.runtime, cipher, clients),
        ),
    )


def build_state(
    settings: AuthSettings, runtime: Runtime, cipher: TokenCipher, clients: GitHubClients
) -> AuthState:
    """Everything the endpoints share, from the settings; ``cipher`` is the one the revoker
    opens tokens with."""
    keyset = _keyset(settings)
    return AuthState(
        settings=settings,
        runtime=runtime,
        github=clients.github,
        cipher=cipher,
        keyset=keyset,
        issuer=TokenIssuer(keyset, settings.issuer, service_audience("auth"), settings.jwt_ttl),
        state_cookie=StateCookie(
            settings.secret.get_secret_value(), settings.state_ttl, secure=settings.https
        ),
        session_cookie=SessionCookie(
            secure=settings.https, secret=settings.secret.get_secret_value()
        ),
        policy=SessionPolicy(
            idle_timeout=settings.session_idle_timeout,
            absolute_lifetime=settings.session_absolute_lifetime,
            update_age=settings.session_update_age,
            activity_interval=settings.activity_interval,
            reauth_window=settings.reauth_window,
        ),
        revoker=clients.revoker,
        github_access=GitHubAccess(runtime.read_sessions, cipher, clients.api),
    )


def _keyset(settings: AuthSettings) -> KeySet:
    if settings.jwt_private_key is None:
        logger.warning("AUTH_JWT_PRIVATE_KEY unset: signing JWTs with a key made for this run")
        current = generate_signing_key()
    else:
        current = SigningKey.from_pem(settings.jwt_private_key.get_secret_value())
    marker = "-----END PUBLIC KEY-----"
    previous = [
        PublicKey.from_pem(block + marker)
        for block in settings.jwt_previous_public_keys.split(marker)
        if block.strip()
    ]
    return KeySet(current, previous)


def token_cipher(settings: AuthSettings) -> TokenCipher:
    """The cipher of GitHub tokens at rest: ``AUTH_TOKEN_KEYS``, or in development a key
    derived from the secret."""
    if settings.token_keys is not None:
        return TokenCipher.from_config(settings.token_keys.get_secret_value())
    # Development only (check_secrets refuses this elsewhere): a key derived from the secret,
    # so tokens stored in one run still decrypt in the next.
    derived = hashlib.sha256(b"codeflow.token-key:" + settings.secret.get_secret_value().encode())
    key = base64.urlsafe_b64encode(derived.digest()).decode()
    return TokenCipher.from_config(f"dev:{key}")
