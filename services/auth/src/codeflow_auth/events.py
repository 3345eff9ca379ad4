"""The messages auth emits, written to its outbox in the caller's transaction."""

from codeflow_contracts import (
    Message,
    UserActive,
    UserCreated,
    UserDeleted,
    UserDeletionCancelled,
    UserDeletionRequested,
    UserRestated,
    UserUpdated,
)
from codeflow_messaging import emitter

SOURCE = "codeflow/auth"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""

PUBLISHES: tuple[type[Message], ...] = (
    UserCreated,
    UserUpdated,
    UserActive,
    UserDeletionRequested,
    UserDeleted,
    UserDeletionCancelled,
    UserRestated,
)
"""What auth's outbox carries (for its AsyncAPI document)."""
