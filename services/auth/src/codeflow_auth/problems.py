"""How the auth service's domain errors read over HTTP, each with a stable ``type``."""

from __future__ import annotations

from codeflow_auth.errors import (
    CsrfRejected,
    GitHubRefused,
    GitHubUnavailable,
    InvalidSignInState,
    NotSignedIn,
    ReauthenticationRequired,
    RedirectRefused,
    SessionNotFound,
)
from codeflow_identity.problems import Problem

PROBLEMS: dict[type[Exception], Problem] = {
    InvalidSignInState: Problem(400, "invalid-sign-in-state", "The sign-in could not be verified"),
    GitHubRefused: Problem(400, "github-refused", "GitHub did not complete the sign-in"),
    GitHubUnavailable: Problem(502, "github-unavailable", "GitHub could not be reached"),
    RedirectRefused: Problem(400, "redirect-refused", "callbackUrl is not allowed"),
    NotSignedIn: Problem(401, "not-signed-in", "Not signed in"),
    CsrfRejected: Problem(403, "csrf-rejected", "Missing or wrong CSRF token"),
    SessionNotFound: Problem(404, "session-not-found", "No such session"),
    ReauthenticationRequired: Problem(
        403,
        "reauthentication-required",
        "Sign in again to do this",
        headers={"Cache-Control": "no-store"},
        extensions=lambda error: {
            "signIn": error.sign_in,
            "maxAge": int(error.window.total_seconds()),
        },
    ),
}
