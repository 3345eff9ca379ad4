"""Auth's Kafka side: the consumer of deletion commands, and the outbox relay."""

from __future__ import annotations

from codeflow_auth.deletion import delete_user_data, delete_users_data
from codeflow_contracts import (
    DeleteUserData,
    Message,
    UserActive,
    UserCreated,
    UserDataDeleted,
    UserDeletionRequested,
    UserUpdated,
)
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_messaging import ReliableConsumer, SessionFactory

GROUP_ID = "auth"

PUBLISHES: tuple[type[Message], ...] = (
    UserCreated,
    UserUpdated,
    UserActive,
    UserDeletionRequested,
    UserDataDeleted,
)
"""What auth's outbox carries."""


def deletion_consumer(sessions: SessionFactory) -> ReliableConsumer:
    return ReliableConsumer(
        group_id=GROUP_ID,
        topics=[USER_DELETION_COMMANDS],
        handlers={DeleteUserData: delete_user_data},
        # A run of commands (a sweep's backlog) is carried out with one statement per table.
        batch_handlers={DeleteUserData: delete_users_data},
        sessions=sessions,
    )
