"""Talking to GitHub: the OAuth web flow (through Authlib) and the two REST calls sign-in needs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from httpx2 import AsyncBaseTransport, AsyncHTTPTransport, HTTPError, Request, Response

from codeflow_auth.config import AuthSettings
from codeflow_auth.errors import GitHubRefused, GitHubUnavailable
from codeflow_auth.signin.state import SignInState

logger = logging.getLogger("codeflow.auth.github")

UNAVAILABLE = "GitHub did not answer as expected; try signing in again in a minute"
"""What a person is told when GitHub fails; what failed, and where, goes to the log."""
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class GitHubTokens:
    access_token: str
    token_type: str | None
    scope: str | None
    refresh_token: str | None = None
    expires_at: int | None = None

    def __repr__(self) -> str:  # tokens never reach a log through a repr
        return f"GitHubTokens(token_type={self.token_type!r}, scope={self.scope!r})"


@dataclass(frozen=True)
class GitHubProfile:
    id: int
    login: str
    name: str | None
    email: str | None
    """The primary email, only if GitHub says it is verified."""
    avatar_url: str | None


class _Lent(AsyncBaseTransport):
    """The service's pool, lent to one call's client: closing that client leaves it open."""

    def __init__(self, pool: AsyncBaseTransport) -> None:
        self._pool = pool

    async def handle_async_request(self, request: Request) -> Response:
        return await self._pool.handle_async_request(request)


class GitHub:
    """GitHub as the sign-in flow sees it; one instance per service, closed by the lifespan.

    Its calls share one connection pool (``transport``, by default made here): building an
    HTTP client per call cost a TLS context each (loading the CA store: most of auth's
    CPU in a sign-in) and a new connection to GitHub each.
    """

    def __init__(
        self, settings: AuthSettings, *, transport: AsyncBaseTransport | None = None
    ) -> None:
        oauth = settings.github_oauth_base_url.rstrip("/")
        self.authorize_url = f"{oauth}/login/oauth/authorize"
        self.token_url = f"{oauth}/login/oauth/access_token"
        self.api_url = settings.github_api_base_url.rstrip("/")
        self._client_id = settings.github_client_id
        self._client_secret = settings.github_client_secret
        self._scope = settings.github_scope
        self._redirect_uri = settings.callback_url
        self._pool = transport or AsyncHTTPTransport()

    async def aclose(self) -> None:
        await self._pool.aclose()

    def _client(self, token: dict[str, Any] | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret.get_secret_value(),
            scope=self._scope,
            redirect_uri=self._redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",  # noqa: S106
            token=token,
            timeout=TIMEOUT_SECONDS,
            transport=_Lent(self._pool),
        )

    def authorization_url(self, state: SignInState) -> str:
        """GitHub's authorize URL for ``state``, with the PKCE S256 challenge."""
        client = self._client()
        url, _ = client.create_authorization_url(
            self.authorize_url, state=state.state, code_verifier=state.code_verifier
        )
        return str(url)

    async def exchange_code(self, code: str, state: SignInState) -> GitHubTokens:
        """Trade the callback's code for tokens.

        GitHub answers a bad, reused or expired code with HTTP 200 and an ``error`` field;
        Authlib turns that into an :class:`OAuthError`, and so does this into a problem.
        """
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    self.token_url, code=code, code_verifier=state.code_verifier
                )
            except OAuthError as exc:
                logger.info("GitHub refused a sign-in code: %s (%s)", exc.error, exc.description)
                raise GitHubRefused(
                    f"GitHub refused the sign-in code ({exc.error}); "
                    "start again at /auth/signin/github"
                ) from None
            except HTTPError as exc:
                logger.warning("GitHub's token endpoint %s failed: %r", self.token_url, exc)
                raise GitHubUnavailable(UNAVAILABLE) from None
        if not token.get("access_token"):
            raise GitHubRefused("GitHub's token response had no access token")
        expires_at = token.get("expires_at")
        return GitHubTokens(
            access_token=token["access_token"],
            token_type=token.get("token_type"),
            scope=token.get("scope"),
            refresh_token=token.get("refresh_token"),
            expires_at=int(expires_at) if expires_at is not None else None,
        )

    async def fetch_profile(self, tokens: GitHubTokens) -> GitHubProfile:
        """``/user`` and ``/user/emails``, asked at once; the email kept is the primary one,
        if verified."""
        bearer = {"access_token": tokens.access_token, "token_type": "bearer"}
        async with self._client(token=bearer) as client:
            # Both calls finish before the client closes, whichever of them fails.
            answers: list[Response | BaseException] = await asyncio.gather(
                client.get(f"{self.api_url}/user", headers=API_HEADERS),
                client.get(f"{self.api_url}/user/emails", headers=API_HEADERS),
                return_exceptions=True,
            )
        user_answer, emails_answer = answers
        user = _json(_answer(user_answer, self.api_url))
        emails_response = _answer(emails_answer, self.api_url)
        if not isinstance(user, dict) or "id" not in user or "login" not in user:
            logger.warning("GitHub's /user answer has no id or login")
            raise GitHubUnavailable(UNAVAILABLE)
        return GitHubProfile(
            id=int(user["id"]),
            login=str(user["login"]),
            name=user.get("name") or None,
            email=_primary_verified_email(emails_response),
            avatar_url=user.get("avatar_url") or None,
        )


def _answer(answer: Response | BaseException, api_url: str) -> Response:
    if isinstance(answer, HTTPError):
        logger.warning("GitHub's API at %s failed: %r", api_url, answer)
        raise GitHubUnavailable(UNAVAILABLE) from None
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _json(response: Response) -> Any:
    if response.status_code in (401, 403):
        raise GitHubRefused(f"GitHub refused the access token ({response.status_code})")
    if response.status_code != 200:
        logger.warning("GitHub answered %s to %s", response.status_code, response.url)
        raise GitHubUnavailable(UNAVAILABLE)
    return response.json()


def _primary_verified_email(response: Response) -> str | None:
    # Without the user:email scope GitHub answers 404; the user can still sign in.
    if response.status_code != 200:
        logger.info("GitHub gave no emails (%s); signing in without one", response.status_code)
        return None
    for entry in response.json():
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified"):
            email = entry.get("email")
            return str(email).lower() if email else None
    return None
