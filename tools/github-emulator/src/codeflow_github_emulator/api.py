"""The REST endpoints about people: the authenticated user, their emails, and profiles."""

from __future__ import annotations

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
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.pagination import paginate

_DOCS = "https://docs.github.com/rest"
_GET_USER_DOC = f"{_DOCS}/users/users#get-the-authenticated-user"
_EMAILS_DOC = f"{_DOCS}/users/emails#list-email-addresses-for-the-authenticated-user"
_PROFILE_SCOPES = frozenset({"user", "read:user"})
_EMAIL_SCOPES = frozenset({"user", "user:email"})


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
