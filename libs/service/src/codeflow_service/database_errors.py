"""A database that can't be reached answers 503, not 500.

The engines don't ping connections before use (see ``codeflow_messaging.database``), so a
request can be the one that finds its connection dead after a database restart. Such errors,
and a database that refuses connections, become a ``database-unavailable`` problem with
``Retry-After``; the client may simply try again. Any other database error is a bug or a
broken invariant: it is logged with its traceback and answered with a bare 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from codeflow_identity.problems import problem_response, problem_type
from codeflow_messaging.failures import is_transient

logger = logging.getLogger("codeflow.service")

DATABASE_UNAVAILABLE = problem_type("database-unavailable")
RETRY_AFTER_SECONDS = 2


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render a database error: 503 when the database was unreachable, else 500."""
    if is_transient(exc):
        logger.warning(
            "%s %s: database unavailable (%s); answered 503",
            request.method,
            request.url.path,
            exc.__class__.__name__,
        )
        return problem_response(
            503,
            DATABASE_UNAVAILABLE,
            "Database unavailable",
            "the database could not be reached; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(500)


def install_database_problem_handler(app: FastAPI) -> None:
    """Answer database errors as problems: 503 for an unreachable database, else 500."""
    app.add_exception_handler(SQLAlchemyError, database_error_handler)
    app.add_exception_handler(OSError, database_error_handler)
