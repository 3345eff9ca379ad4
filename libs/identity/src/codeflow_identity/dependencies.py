"""The FastAPI dependency that names the caller from `Authorization: Bearer <token>`."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from codeflow_identity.errors import InvalidToken, JwksUnavailable
from codeflow_identity.identity import Identity
from codeflow_identity.problems import ProblemError, problem_type
from codeflow_identity.verification import TokenVerifier

NOT_AUTHENTICATED = problem_type("not-authenticated")
INVALID_TOKEN = problem_type("invalid-token")
IDENTITY_UNAVAILABLE = problem_type("identity-unavailable")

# auto_error=False: the 401 is ours (a problem with RFC 6750's WWW-Authenticate), and the
# scheme still shows up in the OpenAPI document.
_bearer = HTTPBearer(auto_error=False)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class RequireIdentity:
    """A dependency returning the verified caller, or answering 401 (503 if keys are down).

    Give it a verifier, or a function that finds one on the request (e.g. on `app.state`,
    set by the lifespan)::

        CurrentUser = Annotated[Identity, Depends(RequireIdentity(lambda r: r.app.state.verifier))]
    """

    def __init__(self, verifier: TokenVerifier | Callable[[Request], TokenVerifier]) -> None:
        self._verifier = verifier

    def _verifier_for(self, request: Request) -> TokenVerifier:
        if isinstance(self._verifier, TokenVerifier):
            return self._verifier
        return self._verifier(request)

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Identity:
        if credentials is None:
            raise ProblemError(
                401,
                NOT_AUTHENTICATED,
                "Not authenticated",
                "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            return await self._verifier_for(request).verify(credentials.credentials)
        except InvalidToken as error:
            challenge = f'Bearer error="invalid_token", error_description="{_quoted(error.reason)}"'
            raise ProblemError(
                401,
                INVALID_TOKEN,
                "Invalid token",
                error.reason,
                headers={"WWW-Authenticate": challenge},
            ) from None
        except JwksUnavailable:
            raise ProblemError(
                503,
                IDENTITY_UNAVAILABLE,
                "Identity keys unavailable",
                "the caller's token can't be checked right now; try again shortly",
                headers={"Retry-After": "10"},
            ) from None
