"""Issuing the short-lived tokens that name the caller (used by auth only)."""

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import jwt

from codeflow_identity.clock import Clock, utc_now
from codeflow_identity.keys import ALGORITHM, KeySet

MAX_TOKEN_TTL = timedelta(minutes=5)
"""Tokens are bearer credentials that can't be revoked; they must not live longer than this."""

REGISTERED_CLAIMS = frozenset({"sub", "iss", "aud", "iat", "nbf", "exp", "jti"})


def service_audience(service: str) -> str:
    """The ``aud`` of the tokens meant for ``service``: a token one service receives is of
    no use at another."""
    return f"codeflow-{service}"


class TokenIssuer:
    """Signs tokens with the key set's current key, for ``audience`` unless told another."""

    def __init__(
        self,
        keyset: KeySet,
        issuer: str,
        audience: str,
        ttl: timedelta = MAX_TOKEN_TTL,
        *,
        max_ttl: timedelta = MAX_TOKEN_TTL,
        clock: Clock = utc_now,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("token ttl must be positive")
        if ttl > max_ttl:
            raise ValueError(f"token ttl {ttl} is over the maximum of {max_ttl}")
        self.keyset = keyset
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self._clock = clock

    def issue(
        self,
        user_id: str,
        *,
        extra_claims: Mapping[str, Any] | None = None,
        audience: str | None = None,
    ) -> str:
        """A signed JWT naming `user_id` as its subject, valid from now for the ttl, for
        `audience` (the issuer's own when not given).

        `extra_claims` (e.g. `login`, `admin`) are added to the payload; they can't replace
        the registered claims.
        """
        if not user_id:
            raise ValueError("user_id must not be empty")
        extra = dict(extra_claims or {})
        clashing = REGISTERED_CLAIMS.intersection(extra)
        if clashing:
            raise ValueError(f"extra claims can't set registered claims: {sorted(clashing)}")
        now = int(self._clock().timestamp())
        payload = {
            **extra,
            "sub": user_id,
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(self.ttl.total_seconds()),
            "jti": secrets.token_urlsafe(16),
        }
        key = self.keyset.current
        return jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
