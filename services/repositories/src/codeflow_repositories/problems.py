"""How the repositories service's domain errors read over HTTP (``application/problem+json``):
an id that isn't the caller's is 404, a bad bulk item 422, a write for an erased account 410,
and GitHub's refusals as auth answers them (ADR 0023): 401 to sign in again, 503 with
``Retry-After`` when GitHub's rate limit is spent or GitHub can't be reached, never a 500."""

from __future__ import annotations

from typing import Any

from codeflow_identity.problems import Problem
from codeflow_repositories.github import (
    GitHubAuthorizationEnded,
    GitHubRateLimited,
    GitHubUnavailable,
    NotOnGitHub,
)
from codeflow_repositories.repositories.errors import (
    BulkItemRejected,
    RepositoryNotFound,
    UserErased,
)


def _retry_after(error: Any) -> dict[str, str]:
    return {"Retry-After": str(error.retry_after)}


PROBLEMS: dict[type[Exception], Problem] = {
    RepositoryNotFound: Problem(404, "repository-not-found", "Repository not found"),
    BulkItemRejected: Problem(
        422,
        "bulk-item-rejected",
        "A bulk item was rejected; nothing was changed",
        extensions=lambda error: {
            "index": error.index,
            "field": f"body.items.{error.index}",
            "reason": error.reason,
        },
    ),
    UserErased: Problem(410, "user-erased", "Account erased"),
    NotOnGitHub: Problem(404, "repository-not-found", "Repository not found"),
    GitHubAuthorizationEnded: Problem(
        401, "github-authorization-ended", "GitHub access has ended; sign in again"
    ),
    GitHubRateLimited: Problem(
        503, "github-rate-limited", "GitHub's rate limit is spent", error_headers=_retry_after
    ),
    GitHubUnavailable: Problem(
        503, "github-unavailable", "GitHub is unavailable", error_headers=_retry_after
    ),
}

REPOSITORY_NOT_FOUND = PROBLEMS[RepositoryNotFound].type
BULK_ITEM_REJECTED = PROBLEMS[BulkItemRejected].type
USER_ERASED = PROBLEMS[UserErased].type
GITHUB_AUTHORIZATION_ENDED = PROBLEMS[GitHubAuthorizationEnded].type
GITHUB_RATE_LIMITED = PROBLEMS[GitHubRateLimited].type
GITHUB_UNAVAILABLE = PROBLEMS[GitHubUnavailable].type
