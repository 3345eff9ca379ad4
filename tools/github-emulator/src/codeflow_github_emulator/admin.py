"""``/_emulator/…``: the emulator's own API for tests to reshape what GitHub knows.

None of this exists on GitHub; it lets a test rename a user, add a repository, hand out a
token directly, move the clock, or start over.
"""

from __future__ import annotations

import json
from datetime import timedelta
from html import escape
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.fixtures import OAuthAppFixture, RepoFixture, UserFixture
from codeflow_github_emulator.grants import grant_for_token, issue_tokens, parse_scopes
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.state import EmulatorState

M = TypeVar("M", bound=BaseModel)


class AdminRequestError(Exception):
    """A refused admin request, answered as ``{"detail": ...}`` with ``status_code``."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status_code = status_code
        self.detail = detail


def admin_error_answer(error: AdminRequestError) -> Response:
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def json_object(request: Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object (an empty body is ``{}``)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as error:
        raise AdminRequestError(400, f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise AdminRequestError(400, "the body must be a JSON object")
    return body


def validated(model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``, or a 422 with pydantic's reasons."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise AdminRequestError(422, json.loads(error.json(include_url=False))) from error


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as JSON-ready data."""
    return model.model_dump(mode="json")


async def list_users(request: Request) -> Response:
    state = emulator_state(request)
    return JSONResponse([dump(user) for user in state.users.values()])


async def upsert_user(request: Request) -> Response:
    """Create a user, or change one found by ``id`` (or by ``login`` when no id is given).

    Only the fields sent change; ``updated_at`` moves to now unless sent. Sending ``id``
    with a new ``login`` renames the user, as happens on GitHub.
    """
    state = emulator_state(request)
    body = await json_object(request)
    existing = _existing_user(state, body)
    merged = body
    if existing is not None:
        merged = dump(existing) | {"updated_at": state.now().isoformat()} | body
    user = validated(UserFixture, merged)
    clash = state.account_by_login(user.login)
    if clash is not None and clash.id != user.id:
        raise AdminRequestError(422, f"login {user.login!r} is taken by user {clash.id}")
    state.users[user.id] = user
    return JSONResponse(dump(user), status_code=200 if existing else 201)


def _existing_user(state: EmulatorState, body: dict[str, Any]) -> UserFixture | None:
    if "id" in body:
        try:
            return state.users.get(int(body["id"]))
        except (TypeError, ValueError):
            return None
    login = body.get("login")
    return state.user_by_login(login) if isinstance(login, str) else None


async def delete_user(request: Request) -> Response:
    """Delete a user with their repositories; their tokens answer "Bad credentials" after."""
    state = emulator_state(request)
    if not state.remove_user(int(request.path_params["user_id"])):
        raise AdminRequestError(404, "no such user")
    return Response(status_code=204)


async def list_user_tokens(request: Request) -> Response:
    """The user's access tokens that still work, with the app and scopes of each."""
    state = emulator_state(request)
    user_id = int(request.path_params["user_id"])
    if user_id not in state.users:
        raise AdminRequestError(404, "no such user")
    live = [grant_for_token(state, token) for token in state.access_grants]
    tokens = [
        {"token": grant.token, "client_id": grant.client_id, "scopes": list(grant.scopes)}
        for grant in live
        if grant is not None and grant.user_id == user_id
    ]
    return JSONResponse({"tokens": tokens})


async def revoke_user_tokens(request: Request) -> Response:
    state = emulator_state(request)
    user_id = int(request.path_params["user_id"])
    if user_id not in state.users:
        raise AdminRequestError(404, "no such user")
    return JSONResponse({"revoked": state.revoke_user_tokens(user_id)})


async def upsert_repo(request: Request) -> Response:
    """Create or replace a repository (by ``id``); its ``owner_id`` must be a known user."""
    state = emulator_state(request)
    body = await json_object(request)
    existing = state.repos.get(body["id"]) if isinstance(body.get("id"), int) else None
    repo = validated(RepoFixture, (dump(existing) if existing else {}) | body)
    if state.account(repo.owner_id) is None:
        raise AdminRequestError(422, f"no user or organisation has id {repo.owner_id}")
    state.repos[repo.id] = repo
    return JSONResponse(dump(repo), status_code=200 if existing else 201)


async def delete_repo(request: Request) -> Response:
    state = emulator_state(request)
    if state.repos.pop(int(request.path_params["repo_id"]), None) is None:
        raise AdminRequestError(404, "no such repository")
    return Response(status_code=204)


def named_user(state: EmulatorState, login: str | None, user_id: int | None) -> UserFixture:
    """The user an admin request names by ``login``, else by ``user_id``; 404 if none."""
    user = state.user_by_login(login) if login else None
    if user is None and user_id is not None:
        user = state.users.get(user_id)
    if user is None:
        raise AdminRequestError(404, "no such user")
    return user


async def upsert_app(request: Request) -> Response:
    """Register an OAuth app, or replace the one with the same ``client_id``."""
    state = emulator_state(request)
    app = validated(OAuthAppFixture, await json_object(request))
    existed = app.client_id in state.apps
    state.apps[app.client_id] = app
    return JSONResponse(dump(app), status_code=200 if existed else 201)


class _TokenOrder(BaseModel):
    login: str | None = None
    user_id: int | None = None
    scope: str = ""
    client_id: str | None = None


async def create_token(request: Request) -> Response:
    """Hand out a token without the browser dance: ``{"login", "scope", "client_id"?}``."""
    state = emulator_state(request)
    order = validated(_TokenOrder, await json_object(request))
    user = named_user(state, order.login, order.user_id)
    client_id = order.client_id or next(iter(state.apps), "")
    if client_id not in state.apps:
        raise AdminRequestError(404, "no such OAuth app")
    issued = issue_tokens(
        state, client_id=client_id, user_id=user.id, scopes=parse_scopes(order.scope)
    )
    body: dict[str, Any] = {
        "access_token": issued.access.token,
        "scope": ",".join(issued.access.scopes),
        "token_type": "bearer",
    }
    if issued.refresh is not None:
        body["refresh_token"] = issued.refresh.token
    return JSONResponse(body, status_code=201)


async def revoke_token(request: Request) -> Response:
    """Revoke one access token, as the person would in their settings; 404 if unknown."""
    state = emulator_state(request)
    if state.access_grants.pop(str(request.path_params["token"]), None) is None:
        raise AdminRequestError(404, "no such token")
    return Response(status_code=204)


async def advance_clock(request: Request) -> Response:
    """Move the emulator's time forward by ``{"seconds": n}`` (codes and tokens expire)."""
    state = emulator_state(request)
    seconds = (await json_object(request)).get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise AdminRequestError(422, "seconds must be a non-negative number")
    state.clock_offset += timedelta(seconds=seconds)
    return JSONResponse({"now": state.now().isoformat()})


async def reset(request: Request) -> Response:
    """Back to the fixtures: users, apps and repositories reloaded; codes and tokens gone."""
    emulator_state(request).reset()
    return Response(status_code=204)


async def avatar(request: Request) -> Response:
    """A stand-in avatar (an initial on a colour), so pages render with no network."""
    state = emulator_state(request)
    user = state.users.get(int(request.path_params["user_id"]))
    initial = escape(user.login[:1].upper()) if user else "?"
    hue = int(request.path_params["user_id"]) % 360
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='460' height='460' viewBox='0 0 46 46'>"
        f"<rect width='46' height='46' fill='hsl({hue},55%,55%)'/>"
        "<text x='23' y='31' font-size='22' text-anchor='middle' fill='white' "
        f"font-family='sans-serif'>{initial}</text></svg>"
    )
    return Response(svg, media_type="image/svg+xml")
