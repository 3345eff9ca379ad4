"""``/profiles``: the caller's own profile, and the public view of a username.

Every request needs a valid JWT, the public view included: 401 otherwise. Each is one query
of plain columns, so it reads through ``ReadConnection`` (Core, no transaction around it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from codeflow_profiles.profiles import service
from codeflow_profiles.profiles.schemas import (
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    MyProfile,
    Problem,
    PublicProfile,
)
from codeflow_service import CurrentIdentity, ReadConnection


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token."),
    404: _problem("No such profile."),
    503: _problem("The identity keys can't be fetched right now."),
}

router = APIRouter(prefix="/profiles", tags=["profiles"], responses=ERRORS)


@router.get("/me")
async def read_my_profile(connection: ReadConnection, caller: CurrentIdentity) -> MyProfile:
    """The caller's own profile; 404 until auth's ``UserCreated`` has been applied."""
    return MyProfile.model_validate(await service.my_profile(connection, caller.user_id))


@router.get("/{username}", responses={422: _problem("The username is not a GitHub login.")})
async def read_public_profile(
    username: Annotated[
        str, Path(min_length=1, max_length=USERNAME_MAX_LENGTH, pattern=USERNAME_PATTERN)
    ],
    connection: ReadConnection,
    caller: CurrentIdentity,  # any signed-in user may look, but only signed-in users
) -> PublicProfile:
    """The public view of whoever holds ``username`` now."""
    return PublicProfile.model_validate(await service.public_profile(connection, username))
