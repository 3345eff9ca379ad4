"""The messages the profiles service emits, written to its outbox in the caller's transaction."""

from codeflow_contracts import Message, UserDataDeleted
from codeflow_messaging import emitter

SOURCE = "codeflow/profiles"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""

PUBLISHES: tuple[type[Message], ...] = (UserDataDeleted,)
"""What the service's outbox carries (for its AsyncAPI document)."""
