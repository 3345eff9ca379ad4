"""What a consumer makes of a failure: the message's fault (retried, then dead-lettered) or
the database's (waited out, never counted against the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

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

# SQLSTATEs that say the server can't serve now, not that the statement or its data is wrong.
_TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "53300",  # too_many_connections: a restart's reconnect storm, or another client's
        "57P01",  # admin_shutdown: a fast or smart shutdown ended the session
        "57P02",  # crash_shutdown: another backend crashed and the server restarts
        "57P03",  # cannot_connect_now: starting up, shutting down, or in recovery
    }
)
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08"})  # connection_exception, every one of them


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was unreachable rather than the message bad.

    The database is unreachable when it refuses or drops connections (a restart: shutting
    down, starting up, recovering; too many clients), when the socket breaks, when the
    connection pool has none free in time, and on serialization failures and deadlocks
    (trying again is what PostgreSQL asks for). Only the database's own errors are looked
    into; an error a handler raised blames the message, whatever caused it.
    """
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, StatementError):  # DBAPIError included: what the driver raised
        return exc.orig is not None and _driver_says_unreachable(exc.orig)
    return _driver_says_unreachable(exc)


def _driver_says_unreachable(error: BaseException) -> bool:
    # SQLAlchemy's asyncpg dialect wraps asyncpg's error in a DB-API one that copies its
    # SQLSTATE; asyncpg's own errors carry it as a class attribute.
    if isinstance(error, OSError | TimeoutError):
        return True
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if not isinstance(sqlstate, str):
        return False
    return sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
