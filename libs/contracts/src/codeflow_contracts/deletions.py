"""The user-deletion saga: the janitor's command and every service's acknowledgement."""

from datetime import datetime
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
    """Delete everything held for one user (a command from the janitor to every service)."""

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


class UserDataDeleted(Message):
    """One service has deleted everything it held for one user (an acknowledgement)."""

    message_type: ClassVar[str] = "codeflow.user.data-deleted.v1"
    topic: ClassVar[str] = topics.USER_DELETION_ACKS

    deletion_id: UUID = Field(description="The `deletion_id` of the command being acknowledged.")
    service: DataHoldingService = Field(description="The service that deleted its data.")
    deleted_at: AwareDatetime = Field(description="When the service committed the deletion.")

    @classmethod
    def acknowledging(
        cls, command: DeleteUserData, *, service: DataHoldingService, deleted_at: datetime
    ) -> "UserDataDeleted":
        """The acknowledgement ``service`` sends once it has carried out ``command``."""
        return cls(
            user_id=command.user_id,
            deletion_id=command.deletion_id,
            service=service,
            deleted_at=deleted_at,
        )
