"""Who is calling: short-lived JWTs signed by auth, verified by every service against auth's
JWKS; plus the shared HTTP problem handling (`codeflow_identity.problems`)."""

from codeflow_identity.clock import Clock, utc_now
from codeflow_identity.dependencies import RequireIdentity
from codeflow_identity.errors import InvalidToken, JwksUnavailable
from codeflow_identity.identity import Identity
from codeflow_identity.jwks import JwksVerifier
from codeflow_identity.keys import (
    ALGORITHM,
    KeySet,
    PublicKey,
    SigningKey,
    generate_signing_key,
    jwk_thumbprint,
)
from codeflow_identity.tokens import MAX_TOKEN_TTL, TokenIssuer, service_audience
from codeflow_identity.verification import StaticKeyVerifier, TokenVerifier

__all__ = [
    "ALGORITHM",
    "MAX_TOKEN_TTL",
    "Clock",
    "Identity",
    "InvalidToken",
    "JwksUnavailable",
    "JwksVerifier",
    "KeySet",
    "PublicKey",
    "RequireIdentity",
    "SigningKey",
    "StaticKeyVerifier",
    "TokenIssuer",
    "TokenVerifier",
    "generate_signing_key",
    "jwk_thumbprint",
    "service_audience",
    "utc_now",
]
