"""The auth service's domain errors: each renders as a problem with a stable ``type``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from codeflow_identity.problems import ProblemError, problem_type


class AuthProblem(ProblemError):
    """An error a client can act on; ``detail`` says what to do about it."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(self.status, problem_type(self.slug), self.title, detail, headers=headers)


class InvalidSignInState(AuthProblem):
    slug = "invalid-sign-in-state"
    title = "The sign-in could not be verified"


class GitHubRefused(AuthProblem):
    slug = "github-refused"
    title = "GitHub did not complete the sign-in"


class GitHubUnavailable(AuthProblem):
    status = 502
    slug = "github-unavailable"
    title = "GitHub could not be reached"


class NotSignedIn(AuthProblem):
    status = 401
    slug = "not-signed-in"
    title = "Not signed in"


class CsrfRejected(AuthProblem):
    status = 403
    slug = "csrf-rejected"
    title = "Missing or wrong CSRF token"


class SessionNotFound(AuthProblem):
    status = 404
    slug = "session-not-found"
    title = "No such session"


class RedirectRefused(AuthProblem):
    slug = "redirect-refused"
    title = "callbackUrl is not allowed"


class ReauthenticationRequired(AuthProblem):
    """The request needs a sign-in more recent than this session's; the session goes on."""

    status = 403
    slug = "reauthentication-required"
    title = "Sign in again to do this"
    sign_in = "/auth/signin/github"

    def __init__(self, action: str, window: timedelta) -> None:
        minutes = window.total_seconds() / 60
        super().__init__(
            f"{action} takes a sign-in within the last {minutes:g} "
            f"minute{'' if minutes == 1 else 's'}: sign in again at "
            f"{self.sign_in}, then ask again. You stay signed in meanwhile.",
            headers={"Cache-Control": "no-store"},
        )
        self.extensions = {"signIn": self.sign_in, "maxAge": int(window.total_seconds())}
