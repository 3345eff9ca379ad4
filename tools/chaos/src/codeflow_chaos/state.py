"""What the system holds after a run, as the checker sees it: read from every service's
database, the janitor's ledger and the dead-letter topics, or built by hand in a test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Erasure:
    """One deletion in the janitor's ledger."""

    user_id: str
    reason: str
    requested_at: datetime
    inactive_since: datetime | None
    auth_acked_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class Produced:
    """One message a service wrote to its outbox: ``id`` orders a producer's messages."""

    producer: str
    id: int
    message_id: str
    topic: str
    key: str
    """The Kafka key: the user id, for a message about a user."""
    message_type: str


@dataclass(frozen=True)
class Applied:
    """One message a consumer recorded in its inbox, when it first processed it."""

    consumer: str
    message_id: str
    message_type: str
    processed_at: datetime


@dataclass(frozen=True)
class SystemState:
    """Everything the rules compare the history with."""

    auth_users: frozenset[str]
    profiles: frozenset[str]
    repositories: frozenset[tuple[str, int]]
    """(user id, GitHub repository id) of every repository row, active or not."""
    activity: frozenset[str]
    """User ids in the janitor's activity projection."""
    erasures: tuple[Erasure, ...] = ()
    dead_letters: Mapping[str, int] = field(default_factory=dict)
    """Records per dead-letter topic."""
    stuck_outbox_rows: Mapping[str, int] = field(default_factory=dict)
    """Per service: outbox rows set aside, or pending after the run settled."""
    produced: tuple[Produced, ...] = ()
    """Every outbox row of every service."""
    applied: tuple[Applied, ...] = ()
    """Every inbox row of every consumer."""
