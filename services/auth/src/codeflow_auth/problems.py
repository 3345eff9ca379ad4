"""How the auth service's domain errors read over HTTP, each with a stable ``type``."""

from __future__ import annotations

from codeflow_auth.errors import (
    CsrfRejected,
    GitHubAccessUnavailable,
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubRefused,
    GitHubRepositoryNotFound,
    GitHubUnavailable,
    InternalCredentialInvalid,
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
    InternalCredentialInvalid: Problem(
        401,
        "internal-credential-invalid",
        "Missing or wrong service credential",
        headers={"WWW-Authenticate": "Bearer"},
    ),
    GitHubAuthorizationEnded: Problem(
        401, "github-authorization-ended", "GitHub access has ended; sign in again"
    ),
    GitHubRateLimited: Problem(
        503,
        "github-rate-limited",
        "GitHub's rate limit is reached; try again later",
        error_headers=lambda error: {"Retry-After": str(error.retry_after)},
    ),
    # The sign-in's GitHubUnavailable (502) ends a sign-in; this one asks the caller to retry.
    GitHubAccessUnavailable: Problem(
        503,
        "github-unavailable",
        "GitHub could not be reached",
        headers={"Retry-After": str(GitHubAccessUnavailable.retry_after)},
    ),
    GitHubRepositoryNotFound: Problem(
        404, "github-repository-not-found", "No such repository on GitHub for this person"
    ),
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
