"""Encryption of provider tokens at rest: AES-256-GCM with key ids, so keys can rotate.

A ciphertext reads ``v2.<kid>.<base64url(nonce + ciphertext + tag)>``. The key id picks the key
that decrypts it, so old keys keep decrypting while the current one encrypts. The associated
data binds each ciphertext to a *purpose* (the column it belongs to, e.g.
``"accounts.access_token"``) and to a *row* (the values naming the row, e.g. the account's
provider and provider account id): a value copied into another column or another row doesn't
decrypt (ADR 0015).

``v1`` ciphertexts, written before rows were bound, were bound to their column only; they
still decrypt, and :meth:`TokenCipher.is_current` tells which ciphertexts to re-encrypt.

Configuration is one env-friendly string, ``kid1:<base64 key>,kid0:<base64 key>``, whose first
entry is the current key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v2"
LEGACY_VERSION = "v1"
"""Bound to the column only; decrypted, never written."""
KEY_BYTES = 32
NONCE_BYTES = 12

_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TokenCipherError(Exception):
    """Base class of the token cipher's errors."""


class InvalidKeyConfig(TokenCipherError, ValueError):
    """The keys or their configuration string are malformed."""


class UnknownKey(TokenCipherError):
    """The ciphertext names a key id this cipher doesn't hold."""


class DecryptionFailed(TokenCipherError):
    """The ciphertext is malformed, was tampered with, or belongs to another column or row."""


def generate_key() -> str:
    """A new random 256-bit key, base64url-encoded for a configuration string."""
    return _encode(secrets.token_bytes(KEY_BYTES))


class TokenCipher:
    """Encrypts with the ``current`` key; decrypts with whichever key a ciphertext names."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise InvalidKeyConfig(f"the current key id {current!r} is not among the keys")
        for kid, key in keys.items():
            if not _KID.fullmatch(kid):
                raise InvalidKeyConfig(f"key id {kid!r} must match {_KID.pattern}")
            if len(key) != KEY_BYTES:
                raise InvalidKeyConfig(f"key {kid!r} must be {KEY_BYTES} bytes, not {len(key)}")
        self._aeads = {kid: AESGCM(bytes(key)) for kid, key in keys.items()}
        self._current = current

    @classmethod
    def from_config(cls, spec: str) -> TokenCipher:
        """Parse ``kid1:<base64 key>,kid0:<base64 key>``; the first key is the current one."""
        keys: dict[str, bytes] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, encoded = entry.partition(":")
            if not sep or not kid:
                raise InvalidKeyConfig("each entry must read <kid>:<base64 key>")
            if kid in keys:
                raise InvalidKeyConfig(f"key id {kid!r} appears twice")
            try:
                keys[kid] = _decode(encoded)
            except (binascii.Error, ValueError):
                raise InvalidKeyConfig(f"key {kid!r} is not valid base64") from None
        if not keys:
            raise InvalidKeyConfig("no keys configured")
        return cls(keys, current=next(iter(keys)))

    @property
    def current_kid(self) -> str:
        return self._current

    def encrypt(self, plaintext: str, *, purpose: str, row: Sequence[str]) -> str:
        """Encrypt ``plaintext`` with the current key, bound to ``purpose`` and ``row``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aeads[self._current].encrypt(
            nonce, plaintext.encode(), _associated_data(self._current, purpose, row)
        )
        return f"{VERSION}.{self._current}.{_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, purpose: str, row: Sequence[str]) -> str:
        """The plaintext of ``token``, which must have been encrypted for ``purpose`` and
        ``row`` (a ``v1`` ciphertext was bound to its purpose only)."""
        version, kid, payload = _split(token)
        if version == VERSION:
            associated_data = _associated_data(kid, purpose, row)
        elif version == LEGACY_VERSION:
            associated_data = f"{LEGACY_VERSION}.{kid}.{purpose}".encode()
        else:
            raise DecryptionFailed(f"unsupported ciphertext version {version!r}")
        aead = self._aeads.get(kid)
        if aead is None:
            raise UnknownKey(f"no key with id {kid!r}")
        try:
            raw = _decode(payload)
            plaintext = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
            return plaintext.decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptionFailed(
                f"the {version} ciphertext under key {kid!r} does not decrypt as {purpose}: "
                "tampered with, or copied from another row or column"
            ) from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is in the newest format under the current key (nothing to
        re-encrypt); says nothing about whether it decrypts."""
        return token.startswith(f"{VERSION}.{self._current}.")

    def __repr__(self) -> str:
        return f"TokenCipher(current={self._current!r}, kids={sorted(self._aeads)!r})"


def _associated_data(kid: str, purpose: str, row: Sequence[str]) -> bytes:
    if isinstance(row, str):
        raise TypeError("row is a sequence of the values naming the row, not one string")
    # A JSON array keeps the parts apart whatever they hold (dots, quotes, spaces).
    return json.dumps([VERSION, kid, purpose, *row], separators=(",", ":")).encode()


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise DecryptionFailed("a ciphertext reads <version>.<kid>.<payload>")
    return parts[0], parts[1], parts[2]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Base64 in either alphabet, padded or not."""
    normalized = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
