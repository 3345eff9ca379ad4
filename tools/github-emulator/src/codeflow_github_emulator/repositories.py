"""The repository endpoints: what the token's user can see, listed or fetched by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from codeflow_github_emulator import representations
from codeflow_github_emulator.api_access import (
    REST_DOCS,
    ApiError,
    answer,
    authenticate,
    base_url,
    bearer_token,
)
from codeflow_github_emulator.fixtures import RepoFixture
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.pagination import paginate
from codeflow_github_emulator.repository_access import (
    AFFILIATIONS,
    affiliation,
    full_name,
    permissions,
    visible,
)
from codeflow_github_emulator.state import EmulatorState

_REPOS_DOC = f"{REST_DOCS}/repos/repos#list-repositories-for-the-authenticated-user"
_GET_REPO_DOC = f"{REST_DOCS}/repos/repos#get-a-repository"
_MEMBER = frozenset({"collaborator", "organization_member"})


async def list_repositories(request: Request) -> Response:
    """``GET /user/repos``: what the caller owns, collaborates on, or sees as an org member.

    Private repositories only with the ``repo`` scope; ``type`` cannot be combined with
    ``visibility`` or ``affiliation`` (422, as GitHub); ``since`` and ``before`` bound
    ``updated_at``.
    """
    caller = authenticate(request, _REPOS_DOC)
    state = emulator_state(request)
    query = request.query_params
    if "type" in query and ("visibility" in query or "affiliation" in query):
        raise ApiError(
            422, "If you specify visibility or affiliation, you cannot specify type.", _REPOS_DOC
        )
    ties, wanted = _ties_and_visibility(query.get("type"), query)
    repos = [
        repo
        for repo in state.repos.values()
        if affiliation(state, repo, caller.user.id) in ties
        and visible(state, repo, caller.grant)
        and wanted in ("all", "private" if repo.private else "public")
        and _updated_between(repo, _moment(query.get("since")), _moment(query.get("before")))
    ]
    sort = query.get("sort", "full_name")
    sort = sort if sort in _SORTS else "full_name"
    default_direction = "asc" if sort == "full_name" else "desc"
    descending = query.get("direction", default_direction) == "desc"
    key = _SORTS[sort]
    repos.sort(key=lambda repo: (key(state, repo), repo.id), reverse=descending)
    base = base_url(request)
    page = paginate(repos, f"{base}/user/repos", query)
    body = [_shown(state, repo, caller.user.id, base) for repo in page.items]
    return answer(request, caller, body, extra_headers={"Link": page.link} if page.link else None)


async def get_repository(request: Request) -> Response:
    """``GET /repositories/{id}``: a repository by its id, which renames and transfers keep.

    A private repository the token cannot see answers 404, exactly like one that does not
    exist: GitHub does not tell a stranger that it is there.
    """
    anonymous = bearer_token(request) is None
    caller = None if anonymous else authenticate(request, _GET_REPO_DOC)
    state = emulator_state(request)
    repo = state.repos.get(int(request.path_params["repo_id"]))
    if repo is None or not visible(state, repo, caller.grant if caller else None):
        raise ApiError(404, "Not Found", _GET_REPO_DOC)
    owner = state.account(repo.owner_id)
    assert owner is not None
    tie = affiliation(state, repo, caller.user.id) if caller else None
    body = representations.full_repository(repo, owner, base_url(request), permissions(tie))
    return answer(request, caller, body)


def _ties_and_visibility(kind: str | None, query: QueryParams) -> tuple[frozenset[str], str]:
    """The affiliations and visibility asked for, by ``type`` or by the two it stands for."""
    if kind == "owner":
        return frozenset({"owner"}), "all"
    if kind == "member":
        return _MEMBER, "all"
    if kind in ("public", "private"):
        return frozenset(AFFILIATIONS), kind
    if kind is not None:
        return frozenset(AFFILIATIONS), "all"
    asked = query.get("affiliation", ",".join(AFFILIATIONS))
    ties = frozenset(part.strip() for part in asked.split(",")) & frozenset(AFFILIATIONS)
    return ties, query.get("visibility", "all")


def _moment(raw: str | None) -> datetime | None:
    """An ISO 8601 timestamp of ``since`` or ``before``; one that does not parse is ignored."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment else None


def _updated_between(repo: RepoFixture, since: datetime | None, before: datetime | None) -> bool:
    """GitHub's ``since`` and ``before``: updated after the one and before the other."""
    return (since is None or repo.updated_at > since) and (
        before is None or repo.updated_at < before
    )


def _shown(state: EmulatorState, repo: RepoFixture, user_id: int, base: str) -> dict[str, Any]:
    owner = state.account(repo.owner_id)
    assert owner is not None
    tie = affiliation(state, repo, user_id)
    return representations.repository(repo, owner, base, permissions(tie))


_SORTS: dict[str, Callable[[EmulatorState, RepoFixture], Any]] = {
    "created": lambda _, repo: repo.created_at,
    "updated": lambda _, repo: repo.updated_at,
    "pushed": lambda _, repo: repo.pushed_at,
    "full_name": lambda state, repo: full_name(state, repo).lower(),
}
