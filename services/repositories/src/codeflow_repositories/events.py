"""The messages the repositories service emits, through its outbox in the caller's transaction."""

from codeflow_contracts import Message, RepositoryMonitoringChanged, UserDataDeleted
from codeflow_messaging import emitter

SOURCE = "codeflow/repositories"

emit = emitter(SOURCE)
"""``await emit(session, message)``: published only if the transaction commits."""

PUBLISHES: tuple[type[Message], ...] = (RepositoryMonitoringChanged, UserDataDeleted)
"""What the service's outbox carries (for its AsyncAPI document)."""
