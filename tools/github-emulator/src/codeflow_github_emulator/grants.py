"""Authorization codes and tokens: how they are issued, exchanged, refreshed and checked."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from codeflow_github_emulator.fixtures import UserFixture
from codeflow_github_emulator.redirects import redirect_uri_allowed
from codeflow_github_emulator.state import (
    AccessGrant,
    AuthorizationCode,
    EmulatorState,
    RefreshGrant,
)

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_DOCS = "https://docs.github.com/apps/managing-oauth-apps"
_TOKEN_ERRORS_DOC = f"{_DOCS}/troubleshooting-oauth-app-access-token-request-errors/"


TokenError = Literal[
    "bad_verification_code",
    "incorrect_client_credentials",
    "redirect_uri_mismatch",
    "unverified_user_email",
    "bad_refresh_token",
]

_DESCRIPTIONS: dict[TokenError, str] = {
    "bad_verification_code": "The code passed is incorrect or expired.",
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": (
        "The redirect_uri MUST match the registered callback URL for this application."
    ),
    "unverified_user_email": "The user must have a verified primary email.",
    "bad_refresh_token": "The refresh token passed is incorrect or expired.",
}


def _documentation_uri(error: TokenError) -> str:
    """GitHub documents a mismatched redirect_uri with the authorization request errors,
    every other error with the token request errors."""
    if error == "redirect_uri_mismatch":
        return f"{_DOCS}/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"
    return f"{_TOKEN_ERRORS_DOC}#{error.replace('_', '-')}"


class TokenRequestError(Exception):
    """A refused token request; GitHub answers these with HTTP 200 and an ``error`` field."""

    def __init__(self, error: TokenError) -> None:
        super().__init__(error)
        self.error = error
        self.description = _DESCRIPTIONS[error]
        self.uri = _documentation_uri(error)


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful token request hands back."""

    access: AccessGrant
    refresh: RefreshGrant | None


def parse_scopes(raw: str | None) -> tuple[str, ...]:
    """Scopes as GitHub reads them: separated by spaces or commas, duplicates dropped."""
    words = (raw or "").replace(",", " ").split()
    return tuple(dict.fromkeys(words))


def _random_token(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def issue_code(
    state: EmulatorState,
    *,
    client_id: str,
    user: UserFixture,
    redirect_uri: str | None,
    scopes: tuple[str, ...],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """A fresh single-use code for the app's callback (20 hex digits, as GitHub's are)."""
    code = secrets.token_hex(10)
    state.codes[code] = AuthorizationCode(
        code=code,
        client_id=client_id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        expires_at=state.now() + timedelta(seconds=state.settings.code_ttl_seconds),
    )
    return code


def authenticate_client(state: EmulatorState, client_id: str, client_secret: str) -> None:
    app = state.apps.get(client_id)
    if app is None or not secrets.compare_digest(app.client_secret, client_secret):
        raise TokenRequestError("incorrect_client_credentials")


def exchange_code(
    state: EmulatorState,
    *,
    client_id: str,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> IssuedTokens:
    """Trade a code for tokens; the client must already be authenticated.

    A code is spent by its first exchange, successful or not, so it cannot be replayed
    with guessed verifiers.
    """
    grant = state.codes.get(code)
    if grant is None or grant.used or grant.client_id != client_id:
        raise TokenRequestError("bad_verification_code")
    grant.used = True
    if state.now() >= grant.expires_at:
        raise TokenRequestError("bad_verification_code")
    if redirect_uri:
        app = state.apps[client_id]
        if not redirect_uri_allowed(app, redirect_uri):
            raise TokenRequestError("redirect_uri_mismatch")
        if grant.redirect_uri is not None and redirect_uri != grant.redirect_uri:
            raise TokenRequestError("redirect_uri_mismatch")
    if grant.code_challenge is not None and not _verifier_matches(grant, code_verifier):
        raise TokenRequestError("bad_verification_code")
    user = state.users.get(grant.user_id)
    if user is None:
        raise TokenRequestError("bad_verification_code")
    if state.settings.refuse_unverified_email and not _primary_email_verified(user):
        raise TokenRequestError("unverified_user_email")
    return issue_tokens(state, client_id=client_id, user_id=user.id, scopes=grant.scopes)


def refresh(state: EmulatorState, *, client_id: str, refresh_token: str) -> IssuedTokens:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    grant = state.refresh_grants.get(refresh_token)
    if grant is None or grant.client_id != client_id or grant.user_id not in state.users:
        raise TokenRequestError("bad_refresh_token")
    del state.refresh_grants[refresh_token]
    if state.now() >= grant.expires_at:
        raise TokenRequestError("bad_refresh_token")
    return issue_tokens(state, client_id=client_id, user_id=grant.user_id, scopes=grant.scopes)


def issue_tokens(
    state: EmulatorState, *, client_id: str, user_id: int, scopes: tuple[str, ...]
) -> IssuedTokens:
    """A new access token, plus a refresh token when the app expires its user tokens."""
    app = state.apps.get(client_id)
    expiring = app is not None and app.expire_user_tokens
    now = state.now()
    settings = state.settings
    access = AccessGrant(
        token=_random_token("gho_", 36),
        client_id=client_id,
        user_id=user_id,
        scopes=scopes,
        expires_at=now + timedelta(seconds=settings.access_token_ttl_seconds) if expiring else None,
    )
    state.access_grants[access.token] = access
    refresh_grant = None
    if expiring:
        refresh_grant = RefreshGrant(
            token=_random_token("ghr_", 76),
            client_id=client_id,
            user_id=user_id,
            scopes=scopes,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
        state.refresh_grants[refresh_grant.token] = refresh_grant
    return IssuedTokens(access=access, refresh=refresh_grant)


def grant_for_token(state: EmulatorState, token: str) -> AccessGrant | None:
    """The live grant behind a token; ``None`` when unknown, expired or its user is gone."""
    grant = state.access_grants.get(token)
    if grant is None or grant.user_id not in state.users:
        return None
    if grant.expires_at is not None and state.now() >= grant.expires_at:
        return None
    return grant


def _verifier_matches(grant: AuthorizationCode, verifier: str | None) -> bool:
    if not verifier or grant.code_challenge is None:
        return False
    if grant.code_challenge_method == "plain":
        expected = verifier
    else:
        digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return secrets.compare_digest(expected, grant.code_challenge)


def _primary_email_verified(user: UserFixture) -> bool:
    return any(email.primary and email.verified for email in user.emails)
