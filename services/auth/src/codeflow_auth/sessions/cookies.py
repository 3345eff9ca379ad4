"""The session cookie and the CSRF token bound to it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from fastapi import Request, Response

from codeflow_auth.sessions.tokens import stored_form

SESSION_COOKIE = "authjs.session-token"
"""Auth.js's own name; with https it carries the ``__Host-`` prefix (ADR 0016)."""


class SessionCookie:
    """The session cookie: httpOnly, SameSite=Lax, host-only on path ``/``.

    On https it is ``Secure`` and named ``__Host-``, which browsers accept only with exactly
    those attributes and no ``Domain``, so no other host (a sibling subdomain) can plant or
    overwrite it. The older ``__Secure-`` name is not read: a session under it is simply
    established again at the next sign-in.
    """

    def __init__(self, *, secure: bool, secret: str) -> None:
        self.secure = secure
        self.name = ("__Host-" if secure else "") + SESSION_COOKIE
        self._csrf_key = hashlib.sha256(b"codeflow.csrf:" + secret.encode()).digest()

    def read(self, request: Request) -> str | None:
        return request.cookies.get(self.name)

    def write(
        self, response: Response, token: str, expires: datetime, *, now: datetime | None = None
    ) -> None:
        """Set the cookie to end when the session does (``expires``)."""
        now = now or datetime.now(UTC)
        response.set_cookie(
            self.name,
            token,
            max_age=max(0, int((expires - now).total_seconds())),
            expires=expires,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token of one session: an HMAC of it, so it needs no storage."""
        return hmac.new(
            self._csrf_key, stored_form(session_token).encode(), hashlib.sha256
        ).hexdigest()

    def csrf_matches(self, session_token: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            self.csrf_token(session_token), presented or ""
        )
