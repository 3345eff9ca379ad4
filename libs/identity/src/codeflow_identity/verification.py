"""Checking a token against known public keys: signature, algorithm, issuer, audience, time."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import jwt

from codeflow_identity.clock import Clock, utc_now
from codeflow_identity.errors import InvalidToken
from codeflow_identity.identity import Identity
from codeflow_identity.keys import ALGORITHM

# Asymmetric only: accepting an HMAC algorithm would let anyone sign with the public key.
SUPPORTED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
REQUIRED_CLAIMS = ("sub", "exp", "aud", "iss")
DEFAULT_LEEWAY = timedelta(seconds=5)


@runtime_checkable
class TokenVerifier(Protocol):
    """Anything that turns a bearer token into an Identity or refuses it."""

    async def verify(self, token: str) -> Identity:
        """The caller the token names; raises InvalidToken (or JwksUnavailable)."""
        ...


def parse_jwks(jwks: Mapping[str, Any], algorithms: Collection[str]) -> dict[str, jwt.PyJWK]:
    """The usable keys of a JWKS by kid: signing keys of an allowed algorithm, others skipped."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise ValueError("a JWKS must have a list of keys")
    usable: dict[str, jwt.PyJWK] = {}
    for data in keys:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
            continue
        if data.get("use", "sig") != "sig":
            continue
        if data.get("kty") == "OKP" and data.get("crv") != "Ed25519":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWKError:
            continue
        if key.algorithm_name in algorithms:
            usable[data["kid"]] = key
    return usable


@dataclass(frozen=True)
class TokenRules:
    """What a token must say to be accepted, and the key-independent checks."""

    issuer: str
    audience: str
    algorithms: frozenset[str] = frozenset({ALGORITHM})
    leeway: timedelta = DEFAULT_LEEWAY
    clock: Clock = utc_now

    def __post_init__(self) -> None:
        unsupported = set(self.algorithms) - SUPPORTED_ALGORITHMS
        if unsupported or not self.algorithms:
            raise ValueError(f"algorithms must be a non-empty subset of {SUPPORTED_ALGORITHMS}")

    def key_id(self, token: str) -> str:
        """The kid the token's header names, once its algorithm is known to be allowed."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise InvalidToken("malformed token") from None
        if header.get("alg") not in self.algorithms:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing key id")
        return kid

    def identity(self, token: str, key: jwt.PyJWK) -> Identity:
        """Verify the token with `key` and check its claims; raises InvalidToken."""
        if jwt.get_unverified_header(token).get("alg") != key.algorithm_name:
            raise InvalidToken("unsupported algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                # Time is checked below against the injected clock.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"missing claim {error.claim}") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("wrong issuer") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("unsupported algorithm") from None
        except jwt.DecodeError:
            raise InvalidToken("malformed token") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid claims") from None
        self.check_time(claims)
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("invalid subject")
        return Identity(user_id=subject, claims=MappingProxyType(claims))

    def check_time(self, claims: Mapping[str, Any]) -> None:
        """Raise InvalidToken unless the claims' exp, nbf and iat hold now (with leeway)."""
        now = self.clock().timestamp()
        leeway = self.leeway.total_seconds()
        times = {name: claims.get(name) for name in ("exp", "nbf", "iat")}
        for name, value in times.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise InvalidToken(f"invalid claim {name}")
        exp, nbf, iat = times["exp"], times["nbf"], times["iat"]
        if exp is None or exp <= now - leeway:
            raise InvalidToken("expired")
        if nbf is not None and nbf > now + leeway:
            raise InvalidToken("not yet valid")
        if iat is not None and iat > now + leeway:
            raise InvalidToken("issued in the future")


class StaticKeyVerifier:
    """Verifies tokens against a JWKS held in memory (auth itself, and tests)."""

    def __init__(
        self,
        jwks: Mapping[str, Any],
        *,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = (ALGORITHM,),
        leeway: timedelta = DEFAULT_LEEWAY,
        clock: Clock = utc_now,
    ) -> None:
        self.rules = TokenRules(issuer, audience, frozenset(algorithms), leeway, clock)
        self._keys = parse_jwks(jwks, self.rules.algorithms)

    async def verify(self, token: str) -> Identity:
        """The caller the token names; raises InvalidToken."""
        kid = self.rules.key_id(token)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown key")
        return self.rules.identity(token, key)
