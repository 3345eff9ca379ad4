"""GitHub, as the repositories service reaches it: through auth's internal route (ADR 0023).

Auth holds the person's GitHub token and makes each call itself; this client names the person
and the repository, and gets GitHub's data and ``ETag`` back, never the token. Every call has a
timeout. What went wrong arrives as one of auth's problems and leaves here as a domain error
that says what the person can do: sign in again, or retry after so many seconds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from codeflow_identity.problems import problem_type
from codeflow_repositories.config import RepositoriesSettings

logger = logging.getLogger("codeflow.repositories.github")

UNAVAILABLE_RETRY_AFTER = 30
"""Seconds a person is asked to wait when GitHub (or auth, on its way) didn't answer."""
RATE_LIMITED = problem_type("github-rate-limited")
AUTHORIZATION_ENDED = problem_type("github-authorization-ended")

_Model = TypeVar("_Model", bound=BaseModel)


class GitHubRepository(BaseModel):
    """One repository as GitHub describes it, in the shape auth's internal route answers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    owner: str
    name: str
    full_name: str
    description: str | None
    visibility: Literal["public", "private", "internal"]
    default_branch: str
    pushed_at: datetime | None
    stargazers_count: int
    archived: bool
    html_url: str


class GitHubRepositoryPage(BaseModel):
    """One page of ``/user/repos``, and the numbers of the next and last pages GitHub gave."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    items: list[GitHubRepository]
    next_page: int | None
    last_page: int | None


@dataclass(frozen=True)
class Fetched:
    """A conditional read: ``repository`` is None when GitHub answered 304 (unchanged)."""

    repository: GitHubRepository | None
    etag: str | None


class GitHubError(Exception):
    """GitHub couldn't be asked, or refused; the subclass says what the person can do."""


class GitHubAuthorizationEnded(GitHubError):
    """GitHub no longer accepts the person's token (revoked or expired): sign in again."""

    def __init__(self) -> None:
        super().__init__(
            "GitHub no longer accepts CodeFlow's access to your account (it was revoked or "
            "has expired); sign in with GitHub again"
        )


class GitHubRateLimited(GitHubError):
    """GitHub's rate limit for the person is spent; it resets in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"GitHub's rate limit for your account is spent; try again in {retry_after} seconds"
        )
        self.retry_after = retry_after


class GitHubUnavailable(GitHubError):
    """GitHub (or auth, which calls it) didn't answer in time or as documented."""

    def __init__(self, retry_after: int = UNAVAILABLE_RETRY_AFTER) -> None:
        super().__init__(
            f"GitHub could not be reached just now; try again in {retry_after} seconds"
        )
        self.retry_after = retry_after


class NotOnGitHub(GitHubError):
    """GitHub answered 404: the repository is gone, or the person can't see it."""

    def __init__(self, github_id: int) -> None:
        super().__init__(f"GitHub shows you no repository with id {github_id}")
        self.github_id = github_id
        self.index = 0
        """Which item of a request named it."""


class GitHub:
    """Auth's internal GitHub route, for one service; :meth:`connect` opens its pool."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, settings: RepositoriesSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AsyncIterator[GitHub]:
        token = settings.auth_internal_token.get_secret_value()
        async with httpx.AsyncClient(
            base_url=settings.auth_internal_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(settings.github_timeout, connect=3.0),
            transport=transport,
        ) as client:
            yield cls(client)

    async def repository(self, user_id: str, github_id: int, *, etag: str | None = None) -> Fetched:
        """GitHub's repository ``github_id`` as ``user_id`` sees it; with ``etag``, a 304
        (``Fetched.repository`` None) when it hasn't changed. Raises :class:`NotOnGitHub`."""
        response = await self._get(
            f"/internal/github/users/{user_id}/repositories/{github_id}",
            headers={"If-None-Match": etag} if etag else None,
        )
        if response.status_code == httpx.codes.NOT_MODIFIED:
            return Fetched(None, response.headers.get("ETag", etag))
        if response.status_code == httpx.codes.NOT_FOUND:
            raise NotOnGitHub(github_id)
        return Fetched(_parse(GitHubRepository, response), response.headers.get("ETag"))

    async def repositories(self, user_id: str, *, page: int, per_page: int) -> GitHubRepositoryPage:
        """One page of the repositories ``user_id`` can see (owner, collaborator, member)."""
        response = await self._get(
            f"/internal/github/users/{user_id}/repos",
            params={"page": page, "per_page": per_page},
        )
        return _parse(GitHubRepositoryPage, response)

    async def _get(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._client.get(path, params=params, headers=headers)
        except httpx.TimeoutException:
            logger.warning("auth's GitHub route did not answer %s in time", path)
            raise GitHubUnavailable() from None
        except httpx.TransportError as exc:
            logger.warning("auth's GitHub route unreachable: %s", type(exc).__name__)
            raise GitHubUnavailable() from None
        if response.status_code in {200, 304, 404}:
            return response
        raise _error_of(response)


def _error_of(response: httpx.Response) -> GitHubError:
    kind = _problem_type(response)
    if response.status_code == httpx.codes.UNAUTHORIZED and kind == AUTHORIZATION_ENDED:
        return GitHubAuthorizationEnded()
    retry_after = _retry_after(response)
    if kind == RATE_LIMITED:
        logger.warning("GitHub's rate limit is spent; retry after %d s", retry_after)
        return GitHubRateLimited(retry_after)
    if response.status_code == httpx.codes.UNAUTHORIZED:
        logger.error(
            "auth refused the internal credential: REPOSITORIES_AUTH_INTERNAL_TOKEN must equal "
            "auth's AUTH_INTERNAL_TOKEN"
        )
    else:
        logger.warning("auth's GitHub route answered %d (%s)", response.status_code, kind)
    return GitHubUnavailable(retry_after)


def _problem_type(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None


def _retry_after(response: httpx.Response) -> int:
    raw = response.headers.get("Retry-After", "")
    return max(1, int(raw)) if raw.isascii() and raw.isdigit() else UNAVAILABLE_RETRY_AFTER


def _parse(model: type[_Model], response: httpx.Response) -> _Model:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        logger.warning("auth's GitHub route answered a body that isn't GitHub's shape")
        raise GitHubUnavailable() from None
