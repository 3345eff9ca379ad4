"""The user-deletion saga: the janitor's command, auth's decision, every service's
acknowledgement."""

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from codeflow_contracts import topics
from codeflow_contracts.message import Message

DeletionReason = Literal["inactive", "requested"]
"""Why a user is being deleted: nobody used the account for too long, or its owner asked."""

DataHoldingService = Literal["auth", "profiles", "repositories"]
"""A service that holds user data and must acknowledge its deletion."""


class DeleteUserData(Message):
    """Erase one user (a command from the janitor to auth).

    Auth decides, when it starts to delete, whether the erasure goes ahead: it answers with
    `UserDeleted` (and has then deleted its share), or, for an erasure for inactivity of a
    person it saw active after `inactive_since`, with `UserDeletionCancelled`.
    """

    message_type: ClassVar[str] = "codeflow.user.delete-data.v1"
    topic: ClassVar[str] = topics.USER_DELETION_COMMANDS

    deletion_id: UUID = Field(
        description="The janitor's deletion ledger id; acknowledgements carry it back."
    )
    reason: DeletionReason = Field(
        description="`inactive`: no activity for the retention period; "
        "`requested`: the user asked for it."
    )
    requested_at: AwareDatetime = Field(description="When the janitor decided on the deletion.")
    inactive_since: AwareDatetime | None = Field(
        default=None,
        description="For `inactive`: the sweep's cutoff, the moment since which the janitor "
        "saw no activity. Auth cancels the deletion if it saw the person active after it.",
    )


class UserDataDeleted(Message):
    """One service has deleted everything it held for one user (an acknowledgement)."""

    message_type: ClassVar[str] = "codeflow.user.data-deleted.v1"
    topic: ClassVar[str] = topics.USER_DELETION_ACKS

    deletion_id: UUID = Field(description="The `deletion_id` of the command being acknowledged.")
    service: DataHoldingService = Field(description="The service that deleted its data.")
    deleted_at: AwareDatetime = Field(description="When the service committed the deletion.")


class UserDeleted(Message):
    """Auth erased a user: their user row, accounts and sessions are gone.

    It travels on the user's own partition of `auth.user-events`, after every earlier event
    about them, so a consumer applying a user's events in order can't apply one of them
    after the erasure. Every other service holding the user's data deletes it and
    acknowledges `deletion_id` with `UserDataDeleted`; for the janitor this event is auth's
    acknowledgement.
    """

    message_type: ClassVar[str] = "codeflow.user.deleted.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    deletion_id: UUID = Field(description="The janitor's deletion this erasure carries out.")
    reason: DeletionReason = Field(description="Why the user was erased, as the command said.")
    deleted_at: AwareDatetime = Field(description="When auth committed the erasure.")


class UserDeletionCancelled(Message):
    """Auth refused an erasure for inactivity: it saw the person active after the cutoff.

    Nothing was deleted anywhere. It travels on the user's own partition of
    `auth.user-events`, as `UserDeleted` does.
    """

    message_type: ClassVar[str] = "codeflow.user.deletion-cancelled.v1"
    topic: ClassVar[str] = topics.USER_EVENTS

    deletion_id: UUID = Field(description="The janitor's deletion that is cancelled.")
    active_at: AwareDatetime = Field(
        description="The latest moment auth saw the person: recorded activity or a session "
        "opened or slid. Auth records activity at most once an hour, so this may be up to "
        "that long before the cutoff it was judged against."
    )
    cancelled_at: AwareDatetime = Field(description="When auth decided.")
