"""The REST endpoints: the authenticated user, their emails and repositories, and users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from codeflow_github_emulator import representations
from codeflow_github_emulator.api_access import (
    ApiError,
    answer,
    authenticate,
    base_url,
    bearer_token,
)
from codeflow_github_emulator.fixtures import RepoFixture
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.pagination import paginate

_DOCS = "https://docs.github.com/rest"
_GET_USER_DOC = f"{_DOCS}/users/users#get-the-authenticated-user"
_EMAILS_DOC = f"{_DOCS}/users/emails#list-email-addresses-for-the-authenticated-user"
_REPOS_DOC = f"{_DOCS}/repos/repos#list-repositories-for-the-authenticated-user"
_PROFILE_SCOPES = frozenset({"user", "read:user"})
_EMAIL_SCOPES = frozenset({"user", "user:email"})

_SORT_KEYS: dict[str, Callable[[RepoFixture], Any]] = {
    "created": lambda repo: repo.created_at,
    "updated": lambda repo: repo.updated_at,
    "pushed": lambda repo: repo.pushed_at,
    "full_name": lambda repo: repo.name.lower(),
}


async def get_authenticated_user(request: Request) -> Response:
    """``GET /user``: the private shape with a profile scope, the public one without."""
    caller = authenticate(request, _GET_USER_DOC)
    state = emulator_state(request)
    repos = state.repos_of(caller.user.id)
    shape = (
        representations.private_user
        if _PROFILE_SCOPES.intersection(caller.grant.scopes)
        else representations.public_user
    )
    return answer(request, caller, shape(caller.user, base_url(request), repos))


async def list_emails(request: Request) -> Response:
    """``GET /user/emails``; without ``user:email`` (or ``user``) GitHub answers 404."""
    caller = authenticate(request, _EMAILS_DOC)
    if not _EMAIL_SCOPES.intersection(caller.grant.scopes):
        raise ApiError(404, "Not Found", _EMAILS_DOC, {"X-Accepted-OAuth-Scopes": "user"})
    rows = [representations.email(entry) for entry in caller.user.emails]
    page = paginate(rows, f"{base_url(request)}/user/emails", request.query_params)
    return answer(
        request,
        caller,
        page.items,
        accepted_scopes="user, user:email",
        extra_headers={"Link": page.link} if page.link else None,
    )


async def list_repositories(request: Request) -> Response:
    """``GET /user/repos``: the caller's repositories, private ones only with ``repo``."""
    caller = authenticate(request, _REPOS_DOC)
    state = emulator_state(request)
    query = request.query_params
    if "type" in query and ("visibility" in query or "affiliation" in query):
        raise ApiError(
            422, "If you specify visibility or affiliation, you cannot specify type.", _REPOS_DOC
        )
    repos = state.repos_of(caller.user.id)
    if "repo" not in caller.grant.scopes:
        repos = [repo for repo in repos if not repo.private]
    repos = _filtered(repos, query.get("visibility", "all"), query.get("type", "all"))
    affiliation = query.get("affiliation", "owner,collaborator,organization_member")
    if "owner" not in affiliation.split(","):
        repos = []
    sort = query.get("sort", "full_name")
    sort = sort if sort in _SORT_KEYS else "full_name"
    default_direction = "asc" if sort == "full_name" else "desc"
    descending = query.get("direction", default_direction) == "desc"
    repos.sort(key=lambda repo: (_SORT_KEYS[sort](repo), repo.id), reverse=descending)
    base = base_url(request)
    page = paginate(repos, f"{base}/user/repos", query)
    body = [representations.repository(repo, caller.user, base) for repo in page.items]
    return answer(request, caller, body, extra_headers={"Link": page.link} if page.link else None)


async def get_user(request: Request) -> Response:
    """``GET /users/{username}`` and ``GET /user/{account_id}``: anyone's public profile.

    These need no token; one that is sent must be good.
    """
    anonymous = bearer_token(request) is None
    caller = None if anonymous else authenticate(request, f"{_DOCS}/users/users#get-a-user")
    state = emulator_state(request)
    if "username" in request.path_params:
        user = state.user_by_login(str(request.path_params["username"]))
    else:
        user = state.users.get(int(request.path_params["account_id"]))
    if user is None:
        raise ApiError(404, "Not Found", f"{_DOCS}/users/users#get-a-user")
    repos = state.repos_of(user.id)
    return answer(request, caller, representations.public_user(user, base_url(request), repos))


def _filtered(repos: list[RepoFixture], visibility: str, kind: str) -> list[RepoFixture]:
    if visibility == "public" or kind == "public":
        return [repo for repo in repos if not repo.private]
    if visibility == "private" or kind == "private":
        return [repo for repo in repos if repo.private]
    if kind == "member":
        return []
    return list(repos)
