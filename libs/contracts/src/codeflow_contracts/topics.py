"""Kafka topic names, and the naming rule for dead-letter topics."""

from typing import Final

USER_EVENTS: Final = "auth.user-events"
"""Events about users, emitted by auth: created, updated, active, deletion requested."""

REPOSITORY_EVENTS: Final = "repositories.repository-events"
"""Events about monitored repositories, emitted by repositories."""

USER_DELETION_COMMANDS: Final = "janitor.user-deletion-commands"
"""Commands from the janitor telling every service to delete one user's data."""

USER_DELETION_ACKS: Final = "user-deletion-acks"
"""Acknowledgements from each service that it has deleted one user's data."""

ALL_TOPICS: Final = (USER_EVENTS, REPOSITORY_EVENTS, USER_DELETION_COMMANDS, USER_DELETION_ACKS)
"""Every topic a message in this package travels on (dead-letter topics excluded)."""


def dead_letter_topic(topic: str, group: str) -> str:
    """Name the dead-letter topic of one consumer group reading one source topic."""
    return f"{topic}.{group}.dlq"
