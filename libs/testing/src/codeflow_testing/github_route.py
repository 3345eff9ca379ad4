"""Auth's internal GitHub route (ADR 0023) over an in-memory GitHub, for the tests of the
services that call it (repositories) without auth.

It answers what auth's route answers: GitHub's repositories in the route's shape with an
``ETag``, a 304 for a matching ``If-None-Match``, 404 for a repository the person can't see
(a public one anyone can), and auth's problems for an ended authorization, a spent rate
limit and an unreachable GitHub. The real route, with auth and GitHub's stand-in behind it, is
what the end-to-end tests drive; this keeps a calling service's own tests about that service.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "repositories-tests-internal-token-0123456789"  # noqa: S105 - tests only
_ids = itertools.count(2_000_000_000)


def repository(
    github_id: int | None = None, *, owner: str = "octocat", name: str = "", **details: Any
) -> dict[str, Any]:
    """A repository as auth's route describes it (any field can be given)."""
    github_id = github_id or next(_ids)
    name = name or f"repo-{github_id}"
    return {
        "id": github_id,
        "owner": owner,
        "name": name,
        "full_name": f"{owner}/{name}",
        "description": f"The {name} repository",
        "visibility": "public",
        "default_branch": "main",
        "pushed_at": "2026-12-01T10:00:00Z",
        "stargazers_count": 7,
        "archived": False,
        "html_url": f"https://github.com/{owner}/{name}",
    } | details


def _problem(status: int, slug: str, title: str, **headers: str) -> JSONResponse:
    body = {"type": f"urn:codeflow:problem:{slug}", "status": status, "title": title}
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


@dataclass
class GitHubDouble:
    """What GitHub holds and shows each person; tests change it and read what was asked."""

    repositories: dict[int, dict[str, Any]] = field(default_factory=dict)
    visible: dict[str, list[int]] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)
    rate_limited: int | None = None
    """Seconds until the rate limit resets, while it is spent."""
    unavailable: bool = False
    asked: list[tuple[str, str | None, int]] = field(default_factory=list)
    """(path, If-None-Match, status) of each request, in order."""

    def publish(self, *repositories: dict[str, Any]) -> list[dict[str, Any]]:
        """Put ``repositories`` on GitHub, owned by nobody in particular."""
        for repo in repositories:
            self.repositories[repo["id"]] = repo
        return list(repositories)

    def add(self, user_id: str, *repositories: dict[str, Any]) -> list[dict[str, Any]]:
        """Put ``repositories`` on GitHub among ``user_id``'s own (their ``/user/repos``)."""
        for repo in repositories:
            self.repositories[repo["id"]] = repo
            self.visible.setdefault(user_id, []).append(repo["id"])
        return list(repositories)

    def rename(self, github_id: int, name: str) -> None:
        repo = self.repositories[github_id]
        repo |= {"name": name, "full_name": f"{repo['owner']}/{name}"}

    def delete(self, github_id: int) -> None:
        del self.repositories[github_id]

    def statuses(self, path_part: str) -> list[int]:
        return [status for path, _, status in self.asked if path_part in path]

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/internal/github/users/{user_id}/repos", self._repos),
                Route(
                    "/internal/github/users/{user_id}/repositories/{github_id:int}",
                    self._repository,
                ),
            ]
        )

    def _refusal(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _problem(401, "internal-credential-invalid", "Internal credential invalid")
        if self.unavailable:
            return _problem(
                503, "github-unavailable", "GitHub is unavailable", **{"Retry-After": "30"}
            )
        if self.rate_limited is not None:
            return _problem(
                503,
                "github-rate-limited",
                "GitHub's rate limit is spent",
                **{"Retry-After": str(self.rate_limited)},
            )
        if request.path_params["user_id"] in self.ended:
            return _problem(401, "github-authorization-ended", "GitHub access has ended")
        return None

    def _seen(self, request: Request, response: Response) -> Response:
        self.asked.append(
            (request.url.path, request.headers.get("if-none-match"), response.status_code)
        )
        return response

    def _shown(self, user_id: str) -> list[dict[str, Any]]:
        ids = self.visible.get(user_id, [])
        return sorted(
            (self.repositories[i] for i in ids if i in self.repositories),
            key=lambda repo: repo["full_name"].casefold(),
        )

    async def _repos(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return self._seen(request, refused)
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", "30"))
        shown = self._shown(request.path_params["user_id"])
        last = max(1, -(-len(shown) // per_page))
        items = shown[(page - 1) * per_page : page * per_page]
        body = {
            "items": items,
            "next_page": page + 1 if page < last else None,
            "last_page": last if page < last else None,
        }
        return self._seen(request, JSONResponse(body))

    async def _repository(self, request: Request) -> Response:
        if refused := self._refusal(request):
            return self._seen(request, refused)
        github_id = request.path_params["github_id"]
        # As on GitHub: a public repository is there for everyone who asks by id.
        public = {i: r for i, r in self.repositories.items() if r["visibility"] == "public"}
        shown = public | {r["id"]: r for r in self._shown(request.path_params["user_id"])}
        if github_id not in shown:
            return self._seen(
                request, _problem(404, "github-repository-not-found", "Not on GitHub")
            )
        body = json.dumps(shown[github_id], sort_keys=True)
        etag = f'W/"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
        if request.headers.get("if-none-match") == etag:
            return self._seen(request, Response(status_code=304, headers={"ETag": etag}))
        answer = Response(body, headers={"ETag": etag}, media_type="application/json")
        return self._seen(request, answer)
