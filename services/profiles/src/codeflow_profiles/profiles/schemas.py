"""What the profiles API answers: the caller's own profile, and a public view of others."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[A-Za-z0-9_-]+$"
"""The characters of a GitHub login (letters, digits, hyphens; underscores for managed users)."""

USERNAME_MAX_LENGTH = 255


class MyProfile(BaseModel):
    """The caller's own profile, every field of it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    user_id: str = Field(description="The auth user id, shared by all services.")
    github_id: int | None = Field(
        description="The GitHub account's numeric id; null if a newer user holds that account."
    )
    username: str | None = Field(
        description="The GitHub login; null while another user holds the login this user "
        "last had, until this user's next sign-in reports their new one."
    )
    last_active_at: datetime = Field(description="When the user was last seen active.")
    created_at: datetime = Field(description="When the user first signed in.")
    updated_at: datetime = Field(description="When this profile last changed.")


class PublicProfile(BaseModel):
    """What any signed-in user may see of another: no user id, no activity."""

    model_config = ConfigDict(from_attributes=True)

    username: str = Field(description="The GitHub login.")
    github_id: int = Field(description="The GitHub account's numeric id.")
    created_at: datetime = Field(description="When the user first signed in.")


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error is answered."""

    type: str = Field(examples=["urn:codeflow:problem:profile-not-found"])
    status: int
    title: str
    detail: str | None = None
