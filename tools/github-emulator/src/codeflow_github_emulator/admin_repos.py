"""``/_emulator/repos/{id}/…``: what owners do to repositories on GitHub, for tests.

A renamed or transferred repository keeps its id; its ``full_name`` changes, and
``updated_at`` moves to now.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeflow_github_emulator.admin import AdminRequestError, dump, json_object, validated
from codeflow_github_emulator.fixtures import RepoFixture
from codeflow_github_emulator.incoming import emulator_state
from codeflow_github_emulator.repository_access import full_name
from codeflow_github_emulator.state import EmulatorState


class _NewName(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class _NewOwner(BaseModel):
    new_owner: str | None = None
    new_owner_id: int | None = None


class _NewVisibility(BaseModel):
    visibility: Literal["public", "private"]


async def rename(request: Request) -> Response:
    """``{"name"}``: the repository's new name (422 if its owner has one so named)."""
    state, repo = _repository(request)
    order = validated(_NewName, await json_object(request))
    _refuse_clash(state, repo.owner_id, order.name, repo.id)
    return _changed(state, repo, {"name": order.name})


async def transfer(request: Request) -> Response:
    """``{"new_owner": login}`` or ``{"new_owner_id"}``: a user or organisation takes it."""
    state, repo = _repository(request)
    order = validated(_NewOwner, await json_object(request))
    owner = (
        state.account_by_login(order.new_owner)
        if order.new_owner is not None
        else state.account(order.new_owner_id or 0)
    )
    if owner is None:
        raise AdminRequestError(422, "no such user or organisation")
    _refuse_clash(state, owner.id, repo.name, repo.id)
    return _changed(state, repo, {"owner_id": owner.id})


async def change_visibility(request: Request) -> Response:
    """``{"visibility": "public" | "private"}``."""
    state, repo = _repository(request)
    order = validated(_NewVisibility, await json_object(request))
    return _changed(state, repo, {"private": order.visibility == "private"})


def _repository(request: Request) -> tuple[EmulatorState, RepoFixture]:
    state = emulator_state(request)
    repo = state.repos.get(int(request.path_params["repo_id"]))
    if repo is None:
        raise AdminRequestError(404, "no such repository")
    return state, repo


def _refuse_clash(state: EmulatorState, owner_id: int, name: str, repo_id: int) -> None:
    wanted = name.lower()
    for other in state.repos.values():
        if other.owner_id == owner_id and other.name.lower() == wanted and other.id != repo_id:
            raise AdminRequestError(422, "name already exists on this account")


def _changed(state: EmulatorState, repo: RepoFixture, change: dict[str, Any]) -> Response:
    moved = {"updated_at": state.now().isoformat()}
    changed = validated(RepoFixture, dump(repo) | moved | change)
    state.repos[changed.id] = changed
    return JSONResponse(dump(changed) | {"full_name": full_name(state, changed)})
