"""The repositories service's Kafka side: the consumer of deletion commands, what it publishes.

The outbox relay that publishes them is run by the service kit's lifespan.
"""

from __future__ import annotations

from collections.abc import Sequence

from codeflow_contracts import (
    DeleteUserData,
    Message,
    RepositoryMonitoringChanged,
    UserDataDeleted,
)
from codeflow_contracts.topics import USER_DELETION_COMMANDS
from codeflow_messaging import ReliableConsumer, SessionFactory
from codeflow_repositories.deletion import delete_user_data, delete_users_data

GROUP_ID = "repositories"

PUBLISHES: Sequence[type[Message]] = (RepositoryMonitoringChanged, UserDataDeleted)
"""What the outbox carries, for the AsyncAPI document."""


def consumers(sessions: SessionFactory, group_id: str = GROUP_ID) -> Sequence[ReliableConsumer]:
    """Every consumer the service runs: ``DeleteUserData``, in group ``repositories``."""
    return [
        ReliableConsumer(
            group_id=group_id,
            topics=[USER_DELETION_COMMANDS],
            handlers={DeleteUserData: delete_user_data},
            # A run of commands (a sweep's backlog) is deleted with one statement.
            batch_handlers={DeleteUserData: delete_users_data},
            sessions=sessions,
        )
    ]
