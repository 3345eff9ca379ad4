"""GitHub's REST API called for a person, with their token, as GitHub asks to be called.

Conditional requests pass GitHub's ``ETag`` back as ``If-None-Match`` (a 304 costs no rate
budget); the primary and secondary rate limits, an ended authorization and a GitHub that
fails or doesn't answer in time each become a domain error. One pooled client serves every
call. The token travels only in the ``Authorization`` header: no log line, error message or
answer carries it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx2
from pydantic import TypeAdapter, ValidationError

from codeflow_auth.errors import (
    GitHubAccessUnavailable,
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubRepositoryNotFound,
)
from codeflow_auth.github_access.schemas import (
    GitHubRepository,
    GitHubRepositoryPage,
    RepositoryAnswer,
)
from codeflow_auth.signin.github import API_HEADERS

logger = logging.getLogger("codeflow.auth.github_access")

CONNECT_TIMEOUT_SECONDS = 3.0
CALL_TIMEOUT_SECONDS = 10.0
"""The longest a call to GitHub takes, from connecting to the answer's last byte."""
AFFILIATION = "owner,collaborator,organization_member"
UNLIMITED_WAIT_SECONDS = 60
"""GitHub's advice for a secondary limit that names no wait: at least a minute."""
LONGEST_WAIT_SECONDS = 3600
"""A primary limit resets within the hour; a later reset is a clock gone wrong."""
UNAVAILABLE = "GitHub did not answer as expected; try again shortly"

Body = TypeVar("Body")
_REPOSITORY = TypeAdapter(RepositoryAnswer)
_REPOSITORY_LIST = TypeAdapter(list[RepositoryAnswer])


@dataclass(frozen=True)
class Answer(Generic[Body]):
    """What GitHub answered, and its ``ETag``; ``body`` is None for a 304 Not Modified."""

    body: Body | None
    etag: str | None


class GitHubApi:
    """The person-facing calls auth makes to GitHub; one instance, closed by the lifespan."""

    def __init__(
        self,
        api_url: str,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._call_timeout = call_timeout
        self._clock = clock
        self._client = httpx2.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers=API_HEADERS,
            timeout=httpx2.Timeout(call_timeout, connect=connect_timeout),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def repositories(
        self, token: str, *, page: int, per_page: int, etag: str | None = None
    ) -> Answer[GitHubRepositoryPage]:
        """A page of the repositories the person owns, collaborates on, or sees through an
        organisation, by full name."""
        params = {
            "affiliation": AFFILIATION,
            "sort": "full_name",
            "direction": "asc",
            "per_page": str(per_page),
            "page": str(page),
        }
        response = await self._get(token, "/user/repos", params=params, etag=etag)
        if response.status_code == 304:
            return Answer(None, response.headers.get("etag", etag))
        if response.status_code != 200:
            raise self._refusal(response)
        items = self._parsed(response, _REPOSITORY_LIST)
        body = GitHubRepositoryPage(
            items=[item.repository() for item in items],
            next_page=_page_of(response, "next"),
            last_page=_page_of(response, "last"),
        )
        return Answer(body, response.headers.get("etag"))

    async def repository(
        self, token: str, github_id: int, *, etag: str | None = None
    ) -> Answer[GitHubRepository]:
        """One repository by its id, which renames and transfers keep."""
        response = await self._get(token, f"/repositories/{github_id}", etag=etag)
        if response.status_code == 304:
            return Answer(None, response.headers.get("etag", etag))
        if response.status_code == 404:
            raise GitHubRepositoryNotFound(
                f"GitHub shows this account no repository {github_id}: deleted, or not visible"
            )
        if response.status_code != 200:
            raise self._refusal(response)
        answer = self._parsed(response, _REPOSITORY)
        return Answer(answer.repository(), response.headers.get("etag"))

    async def _get(
        self,
        token: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        etag: str | None,
    ) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if etag:
            headers["If-None-Match"] = etag
        try:
            async with asyncio.timeout(self._call_timeout):
                response = await self._client.get(path, params=params, headers=headers)
        except (httpx2.HTTPError, TimeoutError) as error:
            # The error's own text is left out: it could quote the request.
            logger.warning("GitHub GET %s failed: %s", path, type(error).__name__)
            raise GitHubAccessUnavailable(UNAVAILABLE) from None
        logger.info(
            "GitHub GET %s: %d (rate limit remaining %s)",
            path,
            response.status_code,
            response.headers.get("x-ratelimit-remaining", "unknown"),
        )
        return response

    def _refusal(self, response: httpx2.Response) -> Exception:
        path, status = response.request.url.path, response.status_code
        if status == 401:
            logger.warning("GitHub refused the token at GET %s (401): its grant has ended", path)
            return GitHubAuthorizationEnded(
                "GitHub no longer accepts CodeFlow's access to this account; sign in again"
            )
        wait = self._rate_limit_wait(response) if status in (403, 429) else None
        if wait is not None:
            logger.warning("GitHub rate-limited GET %s (%d): retry in %d s", path, status, wait)
            return GitHubRateLimited(wait)
        logger.warning("GitHub answered %d to GET %s", status, path)
        return GitHubAccessUnavailable(UNAVAILABLE)

    def _rate_limit_wait(self, response: httpx2.Response) -> int | None:
        """Seconds until GitHub takes calls again, if ``response`` is a rate limit's."""
        headers = response.headers
        retry_after = headers.get("retry-after", "").strip()
        if retry_after.isdigit():  # a secondary limit's
            return min(max(1, int(retry_after)), LONGEST_WAIT_SECONDS)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "").strip()
            if not reset.isdigit():
                return UNLIMITED_WAIT_SECONDS
            return min(max(1, int(reset) - int(self._clock())), LONGEST_WAIT_SECONDS)
        return UNLIMITED_WAIT_SECONDS if response.status_code == 429 else None

    def _parsed(self, response: httpx2.Response, shape: TypeAdapter[Body]) -> Body:
        try:
            return shape.validate_json(response.content)
        except ValidationError as error:
            logger.warning(
                "GitHub's answer to GET %s is not what it documents (%d errors)",
                response.request.url.path,
                error.error_count(),
            )
            raise GitHubAccessUnavailable(UNAVAILABLE) from None


def _page_of(response: httpx2.Response, rel: str) -> int | None:
    """The page number GitHub's ``Link`` header gives ``rel`` (next, last), if any."""
    link = response.links.get(rel)
    page = httpx2.URL(link["url"]).params.get("page") if link and "url" in link else None
    return int(page) if page and page.isdigit() else None
