"""The sign-in state: what binds GitHub's callback to the browser that started the sign-in.

``state``, the PKCE verifier and where to land travel in an httpOnly, SameSite=Lax cookie that
lives at most ``AUTH_STATE_TTL`` (10 minutes). The cookie is encrypted, not only signed
(AES-256-GCM under a key derived from ``AUTH_SECRET`` with HKDF for this use alone): whoever
reads it (a log, a proxy, a script on a page of the same site) learns nothing, the verifier
least of all, and any change to it is refused. The callback must present the same ``state``
in its query string and the cookie, within that time; the cookie is cleared by the callback,
so a replayed callback finds no state.

The cookie reads ``v2.<base64url(nonce + ciphertext + tag)>``; the sealed JSON carries the
moment it was issued, which the expiry is counted from.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from codeflow_auth.errors import InvalidSignInState

COOKIE_NAME = "codeflow.sign-in-state"
VERSION = "v2"
KEY_INFO = b"codeflow.sign-in-state.v2"
"""HKDF's info label: this key is used for the state cookie and nothing else."""
_NONCE_BYTES = 12


@dataclass(frozen=True)
class SignInState:
    state: str
    code_verifier: str
    callback_url: str

    @classmethod
    def new(cls, callback_url: str) -> SignInState:
        # 256 bits each; the PKCE verifier must be 43 to 128 characters (RFC 7636).
        return cls(
            state=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),
            callback_url=callback_url,
        )


class StateCookie:
    """Seals and opens :class:`SignInState` with a key derived from the service secret."""

    def __init__(self, secret: str, ttl: timedelta, *, secure: bool) -> None:
        self._aead = AESGCM(derive_key(secret))
        self.ttl = ttl
        self.secure = secure
        self.name = ("__Host-" if secure else "") + COOKIE_NAME

    def seal(self, state: SignInState) -> str:
        content = {
            "s": state.state,
            "v": state.code_verifier,
            "c": state.callback_url,
            "t": int(time.time()),
        }
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plaintext = json.dumps(content, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plaintext, _ASSOCIATED_DATA)
        return f"{VERSION}.{_encode(nonce + sealed)}"

    def open(self, cookie: str | None, returned_state: str | None) -> SignInState:
        """The state the browser started with, if ``returned_state`` matches it in time."""
        if not cookie:
            raise InvalidSignInState(
                "no sign-in in progress in this browser (the state cookie is missing or "
                "was already used); start again at /auth/signin/github"
            )
        data = self._unseal(cookie)
        if time.time() - data["t"] > self.max_age:
            raise InvalidSignInState(
                "the sign-in took longer than it may; start again at /auth/signin/github"
            )
        if not returned_state or not hmac.compare_digest(
            data["s"].encode(), returned_state.encode()
        ):
            raise InvalidSignInState("the state GitHub returned does not match this browser's")
        return SignInState(state=data["s"], code_verifier=data["v"], callback_url=data["c"])

    def _unseal(self, cookie: str) -> dict[str, Any]:
        version, _, payload = cookie.partition(".")
        try:
            if version != VERSION:
                raise ValueError(version)
            raw = _decode(payload)
            plaintext = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _ASSOCIATED_DATA)
            data = json.loads(plaintext)
            if not (
                isinstance(data, dict)
                and all(isinstance(data.get(k), str) for k in "svc")
                and isinstance(data.get("t"), int)
            ):
                raise ValueError("unexpected content")
        except (binascii.Error, ValueError, InvalidTag):
            raise InvalidSignInState(
                "the sign-in state cookie is not ours (altered, or sealed with another "
                "secret); start again at /auth/signin/github"
            ) from None
        return data

    @property
    def max_age(self) -> int:
        return int(self.ttl.total_seconds())


_ASSOCIATED_DATA = COOKIE_NAME.encode()


def derive_key(secret: str) -> bytes:
    """The state cookie's 256-bit key: HKDF-SHA256 of ``secret``, labelled for this use."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=KEY_INFO).derive(secret.encode())


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
