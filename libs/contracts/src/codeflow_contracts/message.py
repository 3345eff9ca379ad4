"""The base of every event and command, and the field types they share."""

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

UserId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[0-9A-Za-z_-]+$",
        description="The auth user id (`users.id`, a cuid-style string), shared by all services.",
        examples=["clq7z3x0k0000l308f3m9b2qa"],
    ),
]
"""The identity every service shares: the auth service's user id."""

GitHubId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""A GitHub numeric id: a positive 64-bit integer (GitHub's ids are approaching 2^31)."""


class Message(BaseModel):
    """The payload of an envelope: one event or command about one user.

    Subclasses name their CloudEvents `type` (versioned, e.g. `codeflow.user.created.v1`)
    and the topic they travel on. Unknown fields are ignored, so a consumer built against
    an older version of a message still reads a newer one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    message_type: ClassVar[str]
    """The CloudEvents `type` of envelopes carrying this message."""
    topic: ClassVar[str]
    """The Kafka topic this message is published to."""

    user_id: UserId
