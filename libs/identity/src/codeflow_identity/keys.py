"""Ed25519 signing keys with key ids, and the key set auth publishes as its JWKS."""

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
"""The JWS algorithm of every CodeFlow token (RFC 8037, Ed25519 keys)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _pem_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, bytes):
        return pem
    # Environment variables often carry a PEM on one line with literal "\n" escapes.
    return pem.strip().replace("\\n", "\n").encode("ascii")


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an Ed25519 public JWK, base64url without padding."""
    required = {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _okp_members(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def _kid_or_thumbprint(kid: str | None, public_key: Ed25519PublicKey) -> str:
    """``kid`` if given, else the RFC 7638 thumbprint of ``public_key``."""
    return kid or jwk_thumbprint(_okp_members(public_key))


@dataclass(frozen=True)
class PublicKey:
    """A key that verifies tokens: a retired signing key stays published as one of these."""

    key: Ed25519PublicKey = field(repr=False)
    kid: str

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | None = None) -> "PublicKey":
        """Load an Ed25519 SubjectPublicKeyInfo PEM; `kid` defaults to its RFC 7638 thumbprint."""
        key = serialization.load_pem_public_key(_pem_bytes(pem))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("expected an Ed25519 public key")
        return cls(key, _kid_or_thumbprint(kid, key))

    def jwk(self) -> dict[str, str]:
        """The public JWK, as published in the JWKS."""
        return {**_okp_members(self.key), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def pem(self) -> str:
        """The SubjectPublicKeyInfo PEM."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key and its key id, which tokens name in their `kid` header."""

    private_key: Ed25519PrivateKey = field(repr=False)
    kid: str

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | None = None) -> "SigningKey":
        """Load an unencrypted PKCS#8 PEM private key; `kid` defaults to the RFC 7638 thumbprint.

        A PEM squeezed onto one line with literal ``\\n`` escapes (as environment variables
        often hold it) is accepted too.
        """
        key = serialization.load_pem_private_key(_pem_bytes(pem), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("expected an Ed25519 private key")
        return cls(key, _kid_or_thumbprint(kid, key.public_key()))

    @property
    def public_key(self) -> PublicKey:
        """The matching verification key, with the same kid."""
        return PublicKey(self.private_key.public_key(), self.kid)

    def public_jwk(self) -> dict[str, str]:
        """The public JWK (never the private part)."""
        return self.public_key.jwk()

    def private_pem(self) -> str:
        """The PKCS#8 PEM of the private key, for storing it as a secret."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


def generate_signing_key(kid: str | None = None) -> SigningKey:
    """A fresh random signing key, for development and tests."""
    key = Ed25519PrivateKey.generate()
    return SigningKey(key, _kid_or_thumbprint(kid, key.public_key()))


@dataclass(frozen=True)
class KeySet:
    """The key that signs new tokens, plus retired keys whose tokens may still be in flight.

    Keep a retired key here for at least the token lifetime (plus the verifiers' JWKS cache
    time) after rotating, so that tokens it signed keep verifying until they expire.
    """

    current: SigningKey
    previous: Sequence[PublicKey] = ()

    def __post_init__(self) -> None:
        kids = [self.current.kid, *(key.kid for key in self.previous)]
        if len(set(kids)) != len(kids):
            raise ValueError("key ids in a key set must be unique")
        object.__setattr__(self, "previous", tuple(self.previous))

    def rotate(self, new_key: SigningKey) -> "KeySet":
        """A key set signing with `new_key`, still publishing the current key for verification."""
        return KeySet(new_key, (self.current.public_key, *self.previous))

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON Web Key Set: public keys only, the current one first."""
        keys = [self.current.public_key, *self.previous]
        return {"keys": [key.jwk() for key in keys]}
