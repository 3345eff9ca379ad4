"""Which failures say the database is unreachable (waited out) and which blame the message.

The errors are built the way SQLAlchemy's asyncpg dialect builds them: asyncpg's exception
wrapped in the dialect's DB-API error, wrapped in SQLAlchemy's ``DBAPIError.instance``.
"""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

from codeflow_messaging import is_transient

_DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)


def _as_sqlalchemy_raises_it(
    error: Exception, *, connection_invalidated: bool = False
) -> BaseException:
    """``error`` (asyncpg's) as a statement or a connect attempt surfaces it through SQLAlchemy."""
    translated: Exception = error
    for cls in type(error).__mro__:
        if cls in _DBAPI._asyncpg_error_translate:
            translated = _DBAPI._asyncpg_error_translate[cls](error.args[0], error)
            break
    return sqlalchemy.exc.DBAPIError.instance(
        "SELECT 1",
        {},
        translated,
        _DBAPI.Error,
        connection_invalidated=connection_invalidated,
    )


UNREACHABLE = {
    "starting up (57P03)": asyncpg.exceptions.CannotConnectNowError(
        "the database system is starting up"
    ),
    "in recovery (57P03)": asyncpg.exceptions.CannotConnectNowError(
        "the database system is in recovery mode"
    ),
    "shutting down (57P03)": asyncpg.exceptions.CannotConnectNowError(
        "the database system is shutting down"
    ),
    "too many connections (53300)": asyncpg.exceptions.TooManyConnectionsError(
        "sorry, too many clients already"
    ),
    "admin shutdown (57P01)": asyncpg.exceptions.AdminShutdownError(
        "terminating connection due to administrator command"
    ),
    "crash shutdown (57P02)": asyncpg.exceptions.CrashShutdownError(
        "terminating connection because of crash of another server process"
    ),
    "connection does not exist (08003)": asyncpg.exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"
    ),
    "connection failure (08006)": asyncpg.exceptions.ConnectionFailureError("connection failure"),
    "cannot connect (08001)": asyncpg.exceptions.ClientCannotConnectError("cannot connect"),
    "serialization failure (40001)": asyncpg.exceptions.SerializationError(
        "could not serialize access"
    ),
    "deadlock (40P01)": asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
}


@pytest.mark.parametrize("error", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_database_that_cannot_serve_now_is_transient_through_sqlalchemy(
    error: Exception,
) -> None:
    assert is_transient(_as_sqlalchemy_raises_it(error))


@pytest.mark.parametrize("error", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_database_that_cannot_serve_now_is_transient_straight_from_the_driver(
    error: Exception,
) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError(104, "Connection reset by peer"), ConnectionRefusedError(), OSError()],
    ids=["reset", "refused", "os error"],
)
def test_a_broken_socket_is_transient_also_when_sqlalchemy_wraps_it_in_a_statement_error(
    error: OSError,
) -> None:
    assert is_transient(error)
    wrapped = sqlalchemy.exc.DBAPIError.instance("SELECT 1", {}, error, _DBAPI.Error)
    assert isinstance(wrapped, sqlalchemy.exc.StatementError)
    assert is_transient(wrapped)


def test_a_connection_lost_interface_error_wrapped_by_sqlalchemy_is_transient() -> None:
    lost = asyncpg.exceptions.InterfaceError("connection is closed")
    wrapped = _as_sqlalchemy_raises_it(lost)
    assert isinstance(wrapped, sqlalchemy.exc.InterfaceError)
    assert is_transient(wrapped)


def test_a_statement_on_a_connection_sqlalchemy_invalidated_is_transient() -> None:
    assert is_transient(
        _as_sqlalchemy_raises_it(
            asyncpg.exceptions.PostgresError("whatever"), connection_invalidated=True
        )
    )


def test_a_pool_with_no_connection_free_in_time_is_transient() -> None:
    exhausted = sqlalchemy.exc.TimeoutError(
        "QueuePool limit of size 20 overflow 0 reached, connection timed out, timeout 30.00"
    )
    assert not isinstance(exhausted, TimeoutError)  # not the built-in one
    assert is_transient(exhausted)


BAD_MESSAGE = {
    "unique violation": asyncpg.exceptions.UniqueViolationError("duplicate key"),
    "not null violation": asyncpg.exceptions.NotNullViolationError("null value"),
    "invalid text": asyncpg.exceptions.InvalidTextRepresentationError("invalid input syntax"),
    "undefined column": asyncpg.exceptions.UndefinedColumnError("column does not exist"),
    "division by zero": asyncpg.exceptions.DivisionByZeroError("division by zero"),
    "disk full": asyncpg.exceptions.DiskFullError("could not extend file"),
}


@pytest.mark.parametrize("error", BAD_MESSAGE.values(), ids=BAD_MESSAGE.keys())
def test_an_error_the_statement_or_the_data_causes_is_not_transient(error: Exception) -> None:
    assert not is_transient(_as_sqlalchemy_raises_it(error))
    assert not is_transient(error)


def test_a_handlers_own_error_is_not_transient_even_when_caused_by_a_connection_error() -> None:
    # Only the database's own errors are looked into: a handler's error blames the message.
    error = ValueError("could not enrich the message")
    error.__cause__ = ConnectionRefusedError()
    assert not is_transient(error)
