"""Auth's Kafka side: the consumer of deletion commands, and the outbox relay."""

from __future__ import annotations

from codeflow_auth.config import AuthSettings
from codeflow_auth.deletion import delete_user_data
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
from codeflow_messaging import OutboxRelay, ReliableConsumer, SessionFactory, create_producer

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
        sessions=sessions,
    )


def outbox_relay(sessions: SessionFactory, settings: AuthSettings) -> OutboxRelay:
    return OutboxRelay(
        sessions,
        lambda: create_producer(settings.kafka_bootstrap_servers, client_id="codeflow-auth"),
        poll_interval=settings.relay_poll_interval,
    )
