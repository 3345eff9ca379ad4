"""The sign-in state: what binds GitHub's callback to the browser that started the sign-in.

``state`` and the PKCE verifier travel in a signed, httpOnly, SameSite=Lax cookie that lives
at most ``AUTH_STATE_TTL`` (10 minutes). The callback must present the same ``state`` in its
query string and the cookie, within that time; the cookie is cleared by the callback, so a
replayed callback finds no state.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from codeflow_auth.problems import InvalidSignInState

COOKIE_NAME = "codeflow.sign-in-state"


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
    """Seals and opens :class:`SignInState` with the service secret."""

    def __init__(self, secret: str, ttl: timedelta, *, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="codeflow.sign-in-state")
        self.ttl = ttl
        self.secure = secure
        self.name = ("__Host-" if secure else "") + COOKIE_NAME

    def seal(self, state: SignInState) -> str:
        return self._serializer.dumps(
            {"s": state.state, "v": state.code_verifier, "c": state.callback_url}
        )

    def open(self, cookie: str | None, returned_state: str | None) -> SignInState:
        """The state the browser started with, if ``returned_state`` matches it in time."""
        if not cookie:
            raise InvalidSignInState(
                "no sign-in in progress in this browser (the state cookie is missing or "
                "was already used); start again at /auth/signin/github"
            )
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except SignatureExpired:
            raise InvalidSignInState(
                "the sign-in took longer than it may; start again at /auth/signin/github"
            ) from None
        except BadSignature:
            raise InvalidSignInState("the sign-in state cookie is not ours") from None
        if not returned_state or not hmac.compare_digest(str(data["s"]), returned_state):
            raise InvalidSignInState("the state GitHub returned does not match this browser's")
        return SignInState(state=data["s"], code_verifier=data["v"], callback_url=data["c"])

    @property
    def max_age(self) -> int:
        return int(self.ttl.total_seconds())
