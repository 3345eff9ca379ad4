"""What a consumer makes of a failure: the message's fault (retried, then dead-lettered) or
the database's (waited out, never counted against the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from codeflow_messaging.backoff import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing handler is tried before its message is dead-lettered."""

    max_attempts: int = 5
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.2, maximum=5.0))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


OUTAGE_BACKOFF = Backoff(initial=0.5, maximum=10.0)
"""How long a consumer waits between tries while the database is unreachable."""

_SQLSTATE_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was unreachable rather than the message bad."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return sqlstate in _SQLSTATE_RETRYABLE
    return False
