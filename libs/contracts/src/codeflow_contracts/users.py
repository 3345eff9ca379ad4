"""Events about users, published by auth on `auth.user-events`."""

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator

from codeflow_contracts import topics
from codeflow_contracts.message import GitHubId, Message

ChangedUserField = Literal["login", "name", "email", "image"]
"""A user attribute whose change `UserUpdated` reports (without its value, for the last three)."""

GitHubLogin = Annotated[str, Field(min_length=1, max_length=255, examples=["octocat"])]


class UserCreated(Message):
    """A person signed in with GitHub for the first time, and auth created their user."""

    message_type: ClassVar[str] = "codeflow.user.created.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    github_id: GitHubId = Field(
        description="The GitHub account's numeric id; stable across login renames."
    )
    login: GitHubLogin = Field(description="The GitHub login at the time of creation.")
    created_at: AwareDatetime = Field(description="When auth created the user.")


class UserUpdated(Message):
    """A returning user's GitHub profile differs from what auth had stored.

    Only the login travels with its new value; for the name, email and avatar image the
    event says that they changed, not what they changed to.
    """

    message_type: ClassVar[str] = "codeflow.user.updated.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    github_id: GitHubId = Field(
        description="The GitHub account's numeric id; stable across login renames."
    )
    login: GitHubLogin = Field(description="The GitHub login after the update.")
    changed: tuple[ChangedUserField, ...] = Field(
        min_length=1,
        description="Which user attributes changed, each listed once.",
        examples=[["login"], ["name", "image"]],
    )
    updated_at: AwareDatetime = Field(description="When auth stored the update.")

    @field_validator("changed")
    @classmethod
    def _each_change_once(
        cls, changed: tuple[ChangedUserField, ...]
    ) -> tuple[ChangedUserField, ...]:
        if len(set(changed)) != len(changed):
            raise ValueError("each changed attribute must be listed once")
        return changed


class UserActive(Message):
    """A user made an authenticated request; auth emits this at most once an hour per user."""

    message_type: ClassVar[str] = "codeflow.user.active.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    active_at: AwareDatetime = Field(description="When the user was seen active.")


class UserDeletionRequested(Message):
    """A user asked for their account and everything that belongs to it to be deleted."""

    message_type: ClassVar[str] = "codeflow.user.deletion-requested.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    requested_at: AwareDatetime = Field(description="When the user asked for the deletion.")
    deletion_id: UUID | None = Field(
        default=None,
        description="The id auth gave the person to follow the deletion's progress by; the "
        "janitor records the deletion under it. Absent from requests made before auth "
        "named them: the janitor then picks the id.",
    )


class UserRestated(Message):
    """What auth holds about a user now, sent again on an operator's request.

    Consumers that keep a projection of users (profiles, the janitor's activity) apply it
    like the newest `UserUpdated` and `UserActive` together, so a projection that missed
    events (a consumer group whose position expired under retention) can be rebuilt from
    auth, which owns the truth. A user auth no longer holds is never restated.
    """

    message_type: ClassVar[str] = "codeflow.user.restated.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    github_id: GitHubId = Field(description="The GitHub account's numeric id.")
    login: GitHubLogin = Field(description="The GitHub login auth holds now.")
    last_active_at: AwareDatetime | None = Field(
        default=None, description="The latest activity auth recorded, if any."
    )
    restated_at: AwareDatetime = Field(description="When auth read what it restates.")
