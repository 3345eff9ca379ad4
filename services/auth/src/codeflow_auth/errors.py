"""The auth service's domain errors; :mod:`codeflow_auth.problems` says how each reads over
HTTP. The message of each says what the client can do about it."""

from __future__ import annotations

from datetime import timedelta


class SignInFailed(Exception):
    """This sign-in attempt is over: its state can't be used again."""


class InvalidSignInState(SignInFailed):
    """The state GitHub returned doesn't match the one this browser was given."""


class GitHubRefused(SignInFailed):
    """GitHub answered the sign-in with an error, or refused the code or the token."""


class GitHubUnavailable(SignInFailed):
    """GitHub could not be reached, or answered what it never answers."""


class RedirectRefused(Exception):
    """The ``callbackUrl`` points somewhere a sign-in may not land."""


class NotSignedIn(Exception):
    """The request carries no live session."""


class CsrfRejected(Exception):
    """A request that changes the session came from elsewhere, or without its CSRF token."""


class SessionNotFound(Exception):
    """The caller has no session with this id (someone else's answers the same)."""


class ReauthenticationRequired(Exception):
    """The request needs a sign-in more recent than this session's; the session goes on."""

    sign_in = "/auth/signin/github"

    def __init__(self, action: str, window: timedelta) -> None:
        minutes = window.total_seconds() / 60
        super().__init__(
            f"{action} takes a sign-in within the last {minutes:g} "
            f"minute{'' if minutes == 1 else 's'}: sign in again at "
            f"{self.sign_in}, then ask again. You stay signed in meanwhile."
        )
        self.window = window


class InternalCredentialInvalid(Exception):
    """A call to an internal route came without the service credential, or with a wrong one."""


class GitHubAuthorizationEnded(Exception):
    """GitHub no longer takes the person's token (revoked or expired), or auth holds none it
    can open for them: only a new sign-in gives CodeFlow access again."""


class GitHubRateLimited(Exception):
    """GitHub's rate limit for the person is reached; ``retry_after`` says for how long."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"GitHub's rate limit for this account is reached; try again in {retry_after} "
            f"second{'' if retry_after == 1 else 's'}"
        )
        self.retry_after = retry_after


class GitHubAccessUnavailable(Exception):
    """GitHub could not be reached in time, failed, or answered what it doesn't document."""

    retry_after = 30


class GitHubRepositoryNotFound(Exception):
    """GitHub shows the person no repository with this id: deleted, or not theirs to see."""
